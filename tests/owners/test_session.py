"""owners/session.py: the owner session key, separate from the staff login."""

from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from owners import session
from tests.factories import OwnerFactory


def request_with_session():
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.session["_auth_user_id"] = "7"  # a staff login in the same browser
    request.session.save()
    return request


def test_sign_in_names_every_owner_record_of_the_number_and_changes_the_session_key(db):
    first, second = OwnerFactory(mobile="13900139000"), OwnerFactory(mobile="13900139000")
    OwnerFactory(mobile="13700137000")
    request = request_with_session()
    old_key = request.session.session_key
    session.sign_in(request, "13900139000")
    signed = session.signed_in(request)
    assert signed["mobile"] == "13900139000" and signed["owners"] == [first.pk, second.pk]
    assert request.session.session_key != old_key
    assert request.session["_auth_user_id"] == "7"


def test_sign_out_leaves_the_staff_login(db):
    OwnerFactory(mobile="13900139000")
    request = request_with_session()
    session.sign_in(request, "13900139000")
    session.sign_out(request)
    assert session.signed_in(request) is None and request.session["_auth_user_id"] == "7"


def test_a_session_without_owners_is_not_signed_in(db):
    request = request_with_session()
    request.session[session.SESSION_KEY] = {"mobile": "13900139000", "owners": []}
    assert session.signed_in(request) is None
    request.session[session.SESSION_KEY] = "forged"
    assert session.signed_in(request) is None
