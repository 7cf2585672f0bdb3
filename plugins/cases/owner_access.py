"""Which cases a visitor of the public site may open (issue: "an owner sees only cases of their
own units"): a signed-in owner those of their current units and those registered in their name;
anyone the cases they followed with the number and the last 4 digits of the reporter's mobile
(or from the thank-you page of the form they sent), kept in their session. Anything else is a
404 that looks the same as a case that does not exist."""

from django.core import signing
from django.db.models import Q
from django.http import Http404

from estates.models import Ownership

from .models import Case

FOLLOWED_KEY = "anju_followed_cases"
MAX_FOLLOWED = 30
FOLLOW_SALT = "cases.follow"
FOLLOW_MAX_AGE = 24 * 3600


def owner_filter(owner):
    units = Ownership.objects.filter(owner_id__in=owner.owner_ids, end__isnull=True).values("unit_id")
    return Q(unit_id__in=units) | Q(owner_id__in=owner.owner_ids)


def followed_ids(request):
    value = request.session.get(FOLLOWED_KEY)
    return [pk for pk in value if isinstance(pk, int)] if isinstance(value, list) else []


def follow(request, case):
    """Remember in the session that this visitor may read ``case``."""
    ids = [pk for pk in followed_ids(request) if pk != case.pk]
    request.session[FOLLOWED_KEY] = [case.pk, *ids][:MAX_FOLLOWED]


def follow_token(case):
    """For the thank-you page's "查看进度" link: whoever sent the form follows their case."""
    return signing.dumps(case.pk, salt=FOLLOW_SALT)


def case_from_follow_token(token):
    """The case id a follow token names; signing.BadSignature (or SignatureExpired) otherwise."""
    value = signing.loads(token[:200], salt=FOLLOW_SALT, max_age=FOLLOW_MAX_AGE)
    if not isinstance(value, int):
        raise signing.BadSignature("not a case id")
    return value


def visible_case(request, number, queryset=None):
    """(case, owns): the case numbered ``number`` if this visitor may read it — ``owns`` when it
    is a signed-in owner's own case, which they may also act on. Http404 otherwise."""
    queryset = (queryset if queryset is not None else Case.objects.all()).filter(number=(number or "")[:24].upper())
    owner = request.owner
    if owner:
        case = queryset.filter(owner_filter(owner)).first()
        if case is not None:
            return case, True
    followed = followed_ids(request)
    case = queryset.filter(pk__in=followed).first() if followed else None
    if case is None:
        raise Http404
    return case, False
