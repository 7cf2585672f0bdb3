"""The owner session: which owners a visitor signed in as, under a session key of its own
(ARCHITECTURE.md decision 4). Signing an owner in or out never touches a staff login in the same
browser, and the reverse."""

from django.utils import timezone

from estates.models import Owner

SESSION_KEY = "anju_owner"


def sign_in(request, mobile):
    """Sign in every owner record with this number (one person may be on several units under
    separate records). A new session key against fixation; a staff login stays."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "mobile": mobile,
        "owners": list(Owner.objects.filter(mobile=mobile).order_by("pk").values_list("pk", flat=True)),
        "at": timezone.now().isoformat(),
    }


def sign_out(request):
    request.session.pop(SESSION_KEY, None)


def signed_in(request):
    """{"mobile", "owners", "at"} of the signed-in owner, or None."""
    value = request.session.get(SESSION_KEY)
    return value if isinstance(value, dict) and value.get("owners") else None


class OwnerSession:
    """What a page needs of the signed-in owner: the number and the owner records' ids."""

    def __init__(self, signed):
        self.mobile = signed["mobile"]
        self.owner_ids = list(signed["owners"])
