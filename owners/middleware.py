"""``request.owner``: the signed-in owner (owners.session.OwnerSession), read from the session
only when a view asks (ARCHITECTURE.md decision 4). Test it for truth (``if request.owner:``),
not against None: it is a lazy object that is false when nobody is signed in."""

from django.utils.functional import SimpleLazyObject

from . import session


def _owner(request):
    signed = session.signed_in(request)
    return session.OwnerSession(signed) if signed is not None else None


class OwnerMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.owner = SimpleLazyObject(lambda: _owner(request))
        return self.get_response(request)
