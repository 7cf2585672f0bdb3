"""Owner sign-in pages and 我的家 (owners/views.py), the way an owner uses them on a phone."""

import pytest
import time_machine
from django.test import Client

from notifications.models import SmsRecord
from owners.models import SignInCode
from owners.session import SESSION_KEY
from tests.factories import OwnerFactory, OwnershipFactory, UnitFactory
from tests.home.test_opendays_ratelimit import rate_cache  # noqa: F401 (fixture)

SIGN_IN, CODE, HOME, SIGN_OUT = "/owner/sign-in/", "/owner/sign-in/code/", "/owner/", "/owner/sign-out/"


@pytest.fixture
def owner(db):
    owner = OwnerFactory(name="林晓", mobile="13900139000")
    OwnershipFactory(owner=owner)
    return owner


def text(response):
    return response.content.decode()


def last_code(mobile="13900139000"):
    return SmsRecord.objects.filter(mobile=mobile).order_by("-pk").first().params["code"]


def signed_in_client(owner, client=None):
    client = client or Client()
    assert client.post(SIGN_IN, {"mobile": owner.mobile}).status_code == 302
    assert client.post(CODE, {"code": last_code(owner.mobile)}).status_code == 302
    return client


def test_an_owner_signs_in_with_a_code_and_sees_their_home(client, owner):
    assert "获取验证码" in text(client.get(SIGN_IN))
    response = client.post(SIGN_IN, {"mobile": "139 0013 9000"})
    assert response.status_code == 302 and response["Location"].startswith(CODE)
    page = text(client.get(response["Location"]))
    assert "139****9000" in page and "13900139000" not in page
    response = client.post(CODE, {"code": last_code()})
    assert response.status_code == 302 and response["Location"] == HOME
    home = text(client.get(HOME))
    unit = owner.ownerships.get().unit
    assert "我的家" in home and unit.label in home and "我的报修与投诉" in home
    assert SignInCode.objects.get().used_at is not None


def test_wrong_and_malformed_codes_get_a_chinese_message_and_a_400(client, owner):
    client.post(SIGN_IN, {"mobile": owner.mobile})
    code = last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post(CODE, {"code": wrong})
    assert response.status_code == 400 and "验证码不正确，还可以再试 4 次。" in text(response)
    response = client.post(CODE, {"code": "12a"})
    assert response.status_code == 400 and "6 位数字验证码" in text(response)
    assert SESSION_KEY not in client.session


def test_an_expired_code_is_refused(client, owner):
    with time_machine.travel("2026-11-24 10:00 +0800", tick=False) as traveller:
        client.post(SIGN_IN, {"mobile": owner.mobile})
        traveller.shift(301)
        response = client.post(CODE, {"code": last_code()})
    assert response.status_code == 400 and "验证码已失效" in text(response)


def test_a_replayed_code_does_not_sign_in_again(owner):
    first = Client()
    first.post(SIGN_IN, {"mobile": owner.mobile})
    code = last_code()
    assert first.post(CODE, {"code": code}).status_code == 302
    second = Client()
    session = second.session  # a session that never asked for the code but claims the number
    session["anju_owner_pending"] = owner.mobile
    session.save()
    response = second.post(CODE, {"code": code})
    assert response.status_code == 400 and "验证码已失效" in text(response)
    assert second.get(HOME).status_code == 302


@pytest.mark.parametrize("mobile, message", [
    ("12345", "请输入正确的 11 位手机号。"),
    ("", "请输入手机号。"),
    ("13800000000", "该手机号没有登记为业主"),
])
def test_bad_numbers_get_a_message_and_a_400(client, owner, mobile, message):
    response = client.post(SIGN_IN, {"mobile": mobile})
    assert response.status_code == 400 and message in text(response)
    assert not SmsRecord.objects.exists()


def test_the_code_page_without_a_number_goes_back_to_step_one(client, db):
    response = client.get(CODE)
    assert response.status_code == 302 and response["Location"] == "/owner/sign-in/"


def test_home_needs_a_signed_in_owner(client, db):
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"] == "/owner/sign-in/?next=%2Fowner%2F"


def test_next_is_followed_only_on_this_site(client, owner):
    with time_machine.travel("2026-11-24 10:00 +0800", tick=False) as traveller:
        client.post(SIGN_IN, {"mobile": owner.mobile, "next": "https://evil.example/"})
        response = client.post(CODE, {"code": last_code(), "next": "https://evil.example/"})
        assert response["Location"] == HOME
        client.post(SIGN_OUT)
        traveller.shift(61)  # one code a minute per number
        client.post(SIGN_IN, {"mobile": owner.mobile})
        response = client.post(CODE, {"code": last_code(), "next": "/faq/"})
    assert response["Location"] == "/faq/"


def test_owner_and_staff_sign_ins_are_separate(owner, admin_user):
    client = Client()
    client.force_login(admin_user)
    with time_machine.travel("2026-11-24 10:00 +0800", tick=False) as traveller:
        signed_in_client(owner, client)
        assert client.get("/admin/").status_code == 200  # the staff login survived the owner's
        client.post(SIGN_OUT)
        assert client.get(HOME).status_code == 302  # the owner is out…
        assert client.get("/admin/").status_code == 200  # …and the staff member is still in
        traveller.shift(61)  # one code a minute per number
        owner_only = signed_in_client(owner)
        response = owner_only.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_home_shows_only_this_owners_units_and_cases(owner):
    from plugins.cases import services
    from tests.conftest import staff_with_perms

    mine = owner.ownerships.get().unit
    theirs = UnitFactory(building=mine.building)
    OwnershipFactory(unit=theirs)
    staff = staff_with_perms("cases.add_case", projects=[mine.project], username="desk")
    kwargs = dict(kind="repair", channel="hotline", project=mine.project, reporter_name="林晓",
                  reporter_mobile="13900139000", description="厨房水管漏水")
    my_case = services.register(staff, unit=mine, **kwargs)
    their_case = services.register(staff, unit=theirs, **{**kwargs, "reporter_mobile": "13700137000"})
    page = text(signed_in_client(owner).get(HOME))
    assert mine.label in page and my_case.number in page
    assert theirs.label not in page and their_case.number not in page


def test_home_queries_do_not_grow_with_cases(owner, django_assert_max_num_queries):
    client = signed_in_client(owner)
    with django_assert_max_num_queries(8):
        assert client.get(HOME).status_code == 200


# --- Rate limits, counted in local memory and in a real Redis server (the open days' fixture) -


def test_one_code_a_minute_per_number(owner, rate_cache):
    with time_machine.travel("2026-11-24 10:00:05 +0800", tick=False):
        assert Client(REMOTE_ADDR="10.0.0.1").post(SIGN_IN, {"mobile": owner.mobile}).status_code == 302
        response = Client(REMOTE_ADDR="10.0.0.2").post(SIGN_IN, {"mobile": owner.mobile})
    assert response.status_code == 429 and "验证码已发送" in text(response) and response["Retry-After"]
    assert SmsRecord.objects.count() == 1


def test_code_requests_are_limited_per_ip(owner, rate_cache, settings):
    settings.OWNER_RATE_SEND_IP = "3/h"
    with time_machine.travel("2026-11-24 10:00:05 +0800", tick=False):
        client = Client(REMOTE_ADDR="10.0.0.9")
        statuses = [client.post(SIGN_IN, {"mobile": f"1380000000{n}"}).status_code for n in range(4)]
    assert statuses == [400, 400, 400, 429]


def test_code_checks_are_limited_per_ip(owner, rate_cache, settings):
    settings.OWNER_RATE_CHECK_IP = "2/h"
    with time_machine.travel("2026-11-24 10:00:05 +0800", tick=False):
        client = Client(REMOTE_ADDR="10.0.0.7")
        client.post(SIGN_IN, {"mobile": owner.mobile})
        statuses = [client.post(CODE, {"code": "000000"}).status_code for _ in range(3)]
        right = client.post(CODE, {"code": last_code()})
    assert statuses[:2] == [400, 400] and statuses[2] == 429
    assert right.status_code == 429  # even the right code waits: the limit guards the endpoint


def test_bad_requests_never_500(client, owner):
    assert client.post(CODE, {"code": "1" * 50}).status_code == 302  # no number asked for yet
    for data in ({"mobile": "x" * 500}, {}, {"mobile": "１３９００１３９０００"}):  # full-width digits: fine
        assert client.post(SIGN_IN, data).status_code in (302, 400)
    assert client.post(CODE, {"code": "1" * 50}).status_code == 400


def test_behind_a_proxy_the_code_records_the_clients_address(owner, settings):
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    response = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP="203.0.113.9").post(SIGN_IN, {"mobile": owner.mobile})
    assert response.status_code == 302
    assert SignInCode.objects.get().ip == "203.0.113.9"
