"""The owner's case page (/cases/c/<number>/), following a case without signing in, and the
owner's actions — message, sign-off, rating — the way an owner uses them on a phone."""

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from plugins.cases import owner_access, services
from plugins.cases.models import CaseAttachment, CaseEvent, Status
from tests.factories import OwnerFactory, OwnershipFactory, UnitFactory
from tests.forms.conftest import jpeg_bytes
from tests.home.test_opendays_ratelimit import rate_cache  # noqa: F401 (fixture)
from tests.owners.test_views import signed_in_client

from .conftest import contractor

FOLLOW = "/cases/follow/"


def page(number):
    return f"/cases/c/{number}/"


def text(response):
    return response.content.decode()


def photo(name="返修.jpg"):
    return SimpleUploadedFile(name, jpeg_bytes(), "image/jpeg")


@pytest.fixture
def owner(unit):
    owner = OwnerFactory(name="林晓", mobile="13900139000")
    OwnershipFactory(owner=owner, unit=unit)
    return owner


@pytest.fixture
def owner_client(owner):
    return signed_in_client(owner)


@pytest.fixture
def completed(new_case, agent, project):
    """A repair dispatched to a contractor and completed, with an internal note on the way."""
    def make():
        case = new_case()
        services.dispatch(case, agent, contractor=contractor(name="安修公司"), assignee=agent)
        services.add_note(case, agent, "内部：费用由施工方承担", visible_to_owner=False)
        return services.complete(case, agent, "已更换止水阀并做闭水试验")
    return make


# --- Reading -------------------------------------------------------------------------------------
def test_an_owner_sees_where_their_repair_stands_and_only_what_is_for_them(owner_client, new_case, agent):
    case = new_case()
    services.dispatch(case, agent, contractor=contractor(name="安修公司"), assignee=agent)
    services.add_note(case, agent, "内部：业主脾气急", visible_to_owner=False)
    response = owner_client.get(page(case.number))
    body = text(response)
    assert response.status_code == 200
    assert case.number in body and "卫生间天花板漏水" in body
    assert 'aria-current="step">已派单' in body  # the current step of a repair
    assert "前与您联系" in body  # the contact promise from the running clock
    assert "内部：业主脾气急" not in body  # internal notes stay internal
    assert agent.username not in body and "客服" in body  # staff act as 客服, never by name
    assert "给客服留言" in body
    assert "13800138000" not in body  # the reporter's mobile is not shown


def test_the_owners_home_links_each_case_to_its_page(owner_client, new_case):
    case = new_case()
    assert f'href="{page(case.number)}"' in text(owner_client.get("/owner/"))


def test_another_owner_and_strangers_get_404_even_for_a_real_number(new_case, unit, owner_client):
    case = new_case()
    stranger = OwnerFactory(mobile="13700137000")
    OwnershipFactory(owner=stranger, unit=UnitFactory(building=unit.building))
    other = signed_in_client(stranger)
    assert other.get(page(case.number)).status_code == 404
    assert Client().get(page(case.number)).status_code == 404
    guessed = case.number[:-1] + ("9" if case.number[-1] != "9" else "8")
    assert owner_client.get(page(guessed)).status_code == 404
    assert owner_client.get(page(case.number)).status_code == 200


def test_a_former_owner_no_longer_sees_the_units_new_cases(owner, owner_client, new_case, unit):
    import datetime

    owner.ownerships.update(end=datetime.date(2026, 1, 1))
    case = new_case()
    assert owner_client.get(page(case.number)).status_code == 404


def test_the_case_page_reads_a_bounded_number_of_queries(owner_client, new_case, agent,
                                                          django_assert_max_num_queries):
    small = new_case()
    big = new_case()
    for n in range(30):
        services.add_note(big, agent, f"进展 {n}", visible_to_owner=True)
    services.attach(big, services.Actor.system("资料员"), [photo(), photo()], purpose="before", visible_to_owner=True)
    for case in (small, big):
        with django_assert_max_num_queries(15):
            assert owner_client.get(page(case.number)).status_code == 200


# --- Following without signing in ----------------------------------------------------------------
def test_a_case_is_followed_with_its_number_and_the_last_four_digits(new_case, client, rate_cache):  # noqa: F811
    case = new_case(reporter_mobile="13800138000")
    response = client.post(FOLLOW, {"number": case.number.lower(), "last4": "8001"})
    assert response.status_code == 400 and "工单号或手机号后 4 位不正确" in text(response)
    response = client.post(FOLLOW, {"number": "BX20990101-0001", "last4": "8000"})
    assert response.status_code == 400 and "工单号或手机号后 4 位不正确" in text(response)
    response = client.post(FOLLOW, {"number": case.number, "last4": "12"})
    assert response.status_code == 400 and "后 4 位数字" in text(response)
    response = client.post(FOLLOW, {"number": f" {case.number.lower()} ", "last4": "8000"})
    assert response.status_code == 302 and response["Location"] == page(case.number)
    body = text(client.get(page(case.number)))
    assert case.number in body and "登录" in body and "给客服留言" not in body  # reading only
    assert "13800138000" not in body


def test_a_follower_cannot_act_on_the_case(new_case, client, rate_cache):  # noqa: F811
    case = new_case()
    client.post(FOLLOW, {"number": case.number, "last4": "8000"})
    response = client.post(f"{page(case.number)}message/", {"text": "请尽快"})
    assert response.status_code == 403 and "请先用手机号登录" in text(response)
    assert not CaseEvent.objects.filter(case=case, verb="owner_message").exists()


def test_guessing_the_last_four_digits_is_limited_per_case_number(new_case, rate_cache, settings):  # noqa: F811
    settings.OWNER_RATE_FOLLOW_NUMBER = "3/h"
    case = new_case()
    for n, address in enumerate(("203.0.113.1", "203.0.113.2", "203.0.113.3")):
        response = Client(REMOTE_ADDR=address).post(FOLLOW, {"number": case.number, "last4": f"000{n}"})
        assert response.status_code == 400
    response = Client(REMOTE_ADDR="203.0.113.4").post(FOLLOW, {"number": case.number, "last4": "8000"})
    assert response.status_code == 429 and "查询次数过多" in text(response)
    assert response["Retry-After"] == "60"


def test_the_thank_you_link_follows_the_case_and_a_forged_one_does_not(new_case, client):
    case = new_case()
    response = client.get(f"/cases/follow/{owner_access.follow_token(case)}/")
    assert response.status_code == 302 and response["Location"] == page(case.number)
    assert client.get(page(case.number)).status_code == 200
    forged = owner_access.follow_token(case)[:-2] + "xx"
    assert Client().get(f"/cases/follow/{forged}/").status_code == 404
    with time_machine.travel("2099-01-01"):
        response = Client().get(f"/cases/follow/{owner_access.follow_token(case)}/")
    assert response.status_code == 302  # not expired: made at that moment
    token = owner_access.follow_token(case)
    with time_machine.travel("2099-01-01"):
        response = Client().get(f"/cases/follow/{token}/")
    assert response.status_code == 302 and response["Location"] == f"{FOLLOW}?expired=1"


# --- Acting --------------------------------------------------------------------------------------
def test_an_owner_sends_a_message_with_a_photo_that_only_they_and_staff_can_open(owner_client, new_case, client):
    case = new_case()
    response = owner_client.post(f"{page(case.number)}message/", {"text": "水还在滴", "photos": [photo()]})
    assert response.status_code == 302 and response["Location"] == page(case.number)
    event = CaseEvent.objects.get(case=case, verb="owner_message")
    assert event.actor_type == "owner" and event.actor_name == "林晓" and event.visible_to_owner
    attachment = CaseAttachment.objects.get(case=case, actor_type="owner")
    body = text(owner_client.get(page(case.number)))
    assert "水还在滴" in body and "留言已发送" in body
    file_url = f"{page(case.number)}files/{attachment.pk}/"
    assert file_url in body
    response = owner_client.get(file_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert client.get(file_url).status_code == 404  # nobody else


def test_internal_files_are_not_served_to_the_owner(owner_client, new_case, agent):
    case = new_case()
    [internal] = services.attach(case, services.Actor.system("资料员"), [photo()], purpose="evidence", visible_to_owner=False)
    assert owner_client.get(f"{page(case.number)}files/{internal.pk}/").status_code == 404


def test_a_bad_upload_keeps_the_message_and_stores_nothing(owner_client, new_case):
    case = new_case()
    bad = SimpleUploadedFile("x.exe", b"MZ\x90\x00" * 50, "image/jpeg")
    response = owner_client.post(f"{page(case.number)}message/", {"text": "看照片", "photos": [bad]})
    body = text(response)
    assert response.status_code == 400 and "不是可识别的图片" in body and "看照片" in body
    assert not CaseEvent.objects.filter(case=case, verb="owner_message").exists()
    assert not CaseAttachment.objects.filter(case=case).exists()


def test_the_owner_accepts_the_repair_and_rates_it_five_which_closes_it(owner_client, completed):
    case = completed()
    body = text(owner_client.get(page(case.number)))
    assert "验收维修结果" in body and "评价本次服务" not in body
    response = owner_client.post(f"{page(case.number)}sign-off/", {"accepted": "yes"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.SIGNED_OFF
    assert "评价本次服务" in text(owner_client.get(page(case.number)))
    response = owner_client.post(f"{page(case.number)}rate/", {"score": "5", "comment": "师傅很专业"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    rating = CaseEvent.objects.get(case=case, verb="callback")
    assert rating.data == {"reached": True, "score": 5, "reopened": False, "by_owner": True}
    assert rating.visible_to_owner and rating.actor_type == "owner"
    body = text(owner_client.get(page(case.number)))
    assert "师傅很专业" in body and "评价本次服务" not in body
    response = owner_client.post(f"{page(case.number)}rate/", {"score": "4"})
    assert response.status_code == 400 and "已评价过" in text(response)


def test_a_rejected_sign_off_needs_a_reason_and_reopens_and_escalates(owner_client, completed):
    case = completed()
    response = owner_client.post(f"{page(case.number)}sign-off/", {"accepted": "no"})
    assert response.status_code == 400 and "请写明不满意的原因" in text(response)
    case.refresh_from_db()
    assert case.status == Status.COMPLETED
    response = owner_client.post(f"{page(case.number)}sign-off/",
                                 {"accepted": "no", "reason": "还是漏", "photos": [photo()]})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS and case.escalation_level == 1
    assert CaseAttachment.objects.filter(case=case, purpose="evidence", actor_type="owner").count() == 1
    assert case.history.first().history_change_reason.startswith("[业主：林晓]")


def test_a_low_rating_reopens_and_escalates(owner_client, completed):
    case = completed()
    owner_client.post(f"{page(case.number)}sign-off/", {"accepted": "yes"})
    response = owner_client.post(f"{page(case.number)}rate/", {"score": "2", "comment": "态度差"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS and case.escalation_level == 1


@pytest.mark.parametrize("score", ["0", "6", "x", ""])
def test_a_rating_out_of_range_is_refused(owner_client, completed, score):
    case = completed()
    owner_client.post(f"{page(case.number)}sign-off/", {"accepted": "yes"})
    response = owner_client.post(f"{page(case.number)}rate/", {"score": score})
    assert response.status_code == 400 and "1 到 5 分" in text(response)
    case.refresh_from_db()
    assert case.status == Status.SIGNED_OFF


def test_sign_off_is_refused_before_the_work_is_done(owner_client, new_case):
    case = new_case()
    response = owner_client.post(f"{page(case.number)}sign-off/", {"accepted": "yes"})
    assert response.status_code == 400 and "不能业主验收" in text(response)
