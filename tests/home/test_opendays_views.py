"""The public open-day pages through the test client: register, confirmation, cancel, bad input."""

import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from home.models import OpenDayRegistration
from home.opendays import slot_starts_at
from tests.home.test_opendays_fixtures import (  # noqa: F401 (fixtures)
    add_slot_page,
    clear_rate_limits,
    make_registration,
    next_mobile,
    open_day,
    portal,
    project,
    registration_form,
    slot,
)

Status = OpenDayRegistration.Status


def register_url(slot):
    return reverse("openday_register", args=(slot.pk,))


def html(response):
    return response.content.decode()


def field_errors(response, field):
    return [str(error) for error in response.context["form"].errors.get(field, [])]


# --- the registration form ------------------------------------------------------------------


def test_the_open_day_page_links_to_registration_and_cancellation(client, open_day, slot):
    page = html(client.get(open_day.url))
    assert register_url(slot) in page
    assert reverse("openday_cancel") in page


def test_the_form_is_chinese_and_limits_the_party_size(client, slot, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = client.get(register_url(slot))
    assert response.status_code == 200
    page = html(response)
    for text in ("活动报名", "姓名", "手机号", "房号或合同号", "到场人数", "备注", "提交报名", "售楼处门口", "身份证、购房合同"):
        assert text in page
    assert "剩余名额 10 / 10" in page
    party = re.search(r'<input[^>]*name="party_size"[^>]*>', page).group(0)
    assert 'type="number"' in party and 'min="1"' in party and 'max="3"' in party
    assert 'name="csrfmiddlewaretoken"' in page
    assert 'type="tel"' in page


def test_the_number_input_never_offers_more_than_the_seats_left(client, portal, project):
    slot = add_slot_page(portal, project, capacity=5, max_party=3)
    make_registration(slot, party_size=3)
    party = re.search(r'<input[^>]*name="party_size"[^>]*>', html(client.get(register_url(slot)))).group(0)
    assert 'max="2"' in party


def test_unknown_and_unpublished_slots_are_404(client, open_day, slot):
    assert client.get(reverse("openday_register", args=(999999,))).status_code == 404
    open_day.unpublish()
    assert client.get(register_url(slot)).status_code == 404
    assert client.post(register_url(slot), registration_form()).status_code == 404
    assert not OpenDayRegistration.objects.exists()


def test_a_full_slot_shows_a_notice_instead_of_the_form(client, portal, project):
    slot = add_slot_page(portal, project, capacity=1, max_party=1)
    make_registration(slot)
    response = client.get(register_url(slot))
    assert response.status_code == 200
    assert "名额已满" in html(response)
    assert 'name="party_size"' not in html(response)


def test_a_past_slot_shows_a_notice_instead_of_the_form(client, portal, project):
    slot = add_slot_page(portal, project, days=-3)
    response = client.get(register_url(slot))
    assert "已开始或已结束" in html(response) and 'name="name"' not in html(response)


# --- the whole flow -------------------------------------------------------------------------


def test_register_then_see_the_confirmation_with_the_mobile_masked(client, slot, django_assert_max_num_queries):
    response = client.post(register_url(slot), registration_form(mobile="+86 138 0013 8000", party_size="2"))
    registration = OpenDayRegistration.objects.get()
    done_url = reverse("openday_done", args=(registration.code,))
    assert response.status_code == 302 and response["Location"] == done_url
    assert registration.mobile == "13800138000" and registration.party_size == 2

    with django_assert_max_num_queries(8):
        response = client.get(done_url)
    page = html(response)
    assert response.status_code == 200
    for text in ("报名成功", registration.code, "12月工地开放日", "售楼处门口", "身份证、购房合同",
                 "09:30", "138****8000", "李四", "5幢1单元801", "0571-8888 6666"):
        assert text in page, text
    assert "13800138000" not in page
    assert reverse("openday_cancel") + f"?code={registration.code}" in page
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    # The seat is taken on the open-day page too.
    assert "剩余名额 8 / 10" in html(client.get(slot.page.url))


@pytest.mark.parametrize("typed", ["13800138000", "+86 138 0013 8000", "0086-138-0013-8000", "(138)0013 8000",
                                   "１３８００１３８０００", " 138-0013-8000 "])
def test_the_mobile_is_accepted_in_any_common_form(client, slot, typed):
    assert client.post(register_url(slot), registration_form(mobile=typed)).status_code == 302
    assert OpenDayRegistration.objects.get().mobile == "13800138000"


def test_without_the_session_the_confirmation_shows_only_masked_data(client, slot):
    client.post(register_url(slot), registration_form(name="欧阳娜娜", unit_or_contract="5幢1单元801"))
    registration = OpenDayRegistration.objects.get()
    stranger = Client()
    page = html(stranger.get(reverse("openday_done", args=(registration.code,))))
    assert registration.code in page and "12月工地开放日" in page
    assert "欧***" in page and "欧阳娜娜" not in page
    assert "5幢1单元801" not in page and "138****8000" in page
    assert "仅在报名所用的浏览器中显示完整信息" in page


@pytest.mark.parametrize("code", ["ZZZZZZZZ", "abc", "A" * 40, "AB-CD"])
def test_unknown_or_malformed_codes_are_404(client, slot, code):
    make_registration(slot)
    assert client.get(f"/opendays/r/{code}/").status_code == 404


def test_the_code_in_the_url_is_case_insensitive(client, slot):
    client.post(register_url(slot), registration_form())
    code = OpenDayRegistration.objects.get().code
    assert client.get(reverse("openday_done", args=(code.lower(),))).status_code == 200


# --- bad input: the form again, 400, Chinese errors, nothing stored -------------------------


@pytest.mark.parametrize(
    "overrides, field, expected",
    [
        ({"mobile": "12345"}, "mobile", "无效"),
        ({"mobile": "😀😀😀"}, "mobile", "无效"),
        ({"mobile": "1" * 10_000}, "mobile", "最多 30 个字符（现在 10000 个）"),
        ({"name": ""}, "name", "请填写姓名"),
        ({"name": "   "}, "name", "请填写姓名"),
        ({"name": "张" * 10_000}, "name", "姓名最多 50 个字符"),
        ({"unit_or_contract": "x" * 10_000}, "unit_or_contract", "房号或合同号最多 50 个字符"),
        ({"remark": "长" * 10_000}, "remark", "备注最多 200 个字符"),
        ({"name": "张\x00三"}, "name", "不能包含空字符"),
        ({"party_size": "4"}, "party_size", "最多 3 人"),
        ({"party_size": "0"}, "party_size", "至少为 1 人"),
        ({"party_size": "abc"}, "party_size", "请填写到场人数"),
        ({"party_size": "9" * 10_000}, "party_size", ""),
        ({"party_size": ""}, "party_size", "请填写到场人数"),
    ],
)
def test_bad_input_gets_the_form_again_with_a_chinese_error(client, slot, overrides, field, expected):
    response = client.post(register_url(slot), registration_form(**overrides))
    assert response.status_code == 400
    errors = field_errors(response, field)
    assert errors and expected in " ".join(errors), errors
    assert "报名未成功" in html(response)
    assert 'class="errorlist' in html(response)
    assert not OpenDayRegistration.objects.exists()


def test_a_full_slot_gets_the_form_again_with_a_400(client, portal, project):
    slot = add_slot_page(portal, project, capacity=2, max_party=2)
    make_registration(slot, party_size=1)
    response = client.post(register_url(slot), registration_form(party_size="2"))
    assert response.status_code == 400
    assert "仅剩 1 个名额" in " ".join(field_errors(response, "party_size"))
    make_registration(slot, party_size=1)
    response = client.post(register_url(slot), registration_form(mobile=next_mobile(), party_size="1"))
    assert response.status_code == 400
    assert "名额已满" in html(response)
    assert OpenDayRegistration.objects.count() == 2


def test_a_second_registration_of_the_same_mobile_is_an_error_on_the_mobile(client, slot):
    assert client.post(register_url(slot), registration_form(mobile="13800138000")).status_code == 302
    response = client.post(register_url(slot), registration_form(mobile="138-0013-8000"))
    assert response.status_code == 400
    assert "已报名本场次" in " ".join(field_errors(response, "mobile"))
    assert OpenDayRegistration.objects.count() == 1


def test_emoji_and_sql_looking_text_are_stored_verbatim_and_escaped_on_output(client, slot):
    remark = "'); DROP TABLE home_opendayregistration; -- <script>alert(1)</script> 🏠"
    response = client.post(register_url(slot), registration_form(name="王🏠", remark=remark))
    assert response.status_code == 302
    registration = OpenDayRegistration.objects.get()
    assert (registration.name, registration.remark) == ("王🏠", remark)
    page = html(client.get(response["Location"]))
    assert "王🏠" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "&#x27;); DROP TABLE" in page


def test_a_missing_csrf_token_is_refused_with_403(slot):
    client = Client(enforce_csrf_checks=True)
    assert client.get(register_url(slot)).status_code == 200
    assert client.post(register_url(slot), registration_form()).status_code == 403
    assert client.post(reverse("openday_cancel"), {"code": "ABCDEFGH", "mobile": "13800138000"}).status_code == 403
    assert not OpenDayRegistration.objects.exists()


def test_other_methods_are_refused(client, slot):
    assert client.put(register_url(slot)).status_code == 405
    assert client.post(reverse("openday_done", args=("ABCDEFGH",))).status_code == 405


# --- cancel ---------------------------------------------------------------------------------


def test_cancel_with_code_and_mobile(client, slot):
    client.post(register_url(slot), registration_form(mobile="13800138000"))
    registration = OpenDayRegistration.objects.get()

    form_page = client.get(reverse("openday_cancel"), {"code": registration.code.lower() + '<>"'})
    assert form_page.status_code == 200
    assert f'value="{registration.code}"' in html(form_page)
    assert "报名码" in html(form_page) and "报名时填写的手机号" in html(form_page)

    stranger = Client()  # cancelling proves code + mobile, so it works from any browser
    response = stranger.post(reverse("openday_cancel"), {"code": f" {registration.code.lower()} ", "mobile": "+8613800138000"})
    assert response.status_code == 302
    assert response["Location"] == reverse("openday_done", args=(registration.code,))
    registration.refresh_from_db()
    assert registration.status == Status.CANCELLED
    page = html(stranger.get(response["Location"]))
    assert "报名已取消" in page and "名额已释放" in page and "李四" in page
    assert "剩余名额 10 / 10" in html(client.get(slot.page.url))

    response = stranger.post(reverse("openday_cancel"), {"code": registration.code, "mobile": "13800138000"}, follow=True)
    assert response.status_code == 200 and "此前已取消" in html(response)
    assert OpenDayRegistration.objects.count() == 1


@pytest.mark.parametrize(
    "data, field, expected",
    [
        ({"code": "ZZZZZZZZ", "mobile": "13800138000"}, None, "报名码与手机号不匹配"),
        ({"code": "{code}", "mobile": "13912345678"}, None, "报名码与手机号不匹配"),
        ({"code": "{code}", "mobile": "12"}, "mobile", "无效"),
        ({"code": "' OR 1=1 --", "mobile": "13800138000"}, "code", "格式不对"),
        ({"code": "A" * 10_000, "mobile": "13800138000"}, "code", "报名码最多 20 个字符"),
        ({"code": "", "mobile": ""}, "code", "请填写报名码"),
        ({"code": "", "mobile": ""}, "mobile", "请填写报名时填写的手机号"),
    ],
)
def test_cancel_bad_input_gets_the_form_again_with_a_400(client, slot, data, field, expected):
    registration = make_registration(slot, mobile="13800138000")
    data = {key: value.replace("{code}", registration.code) for key, value in data.items()}
    response = client.post(reverse("openday_cancel"), data)
    assert response.status_code == 400
    form = response.context["form"]
    errors = form.non_field_errors() if field is None else form.errors[field]
    assert expected in " ".join(errors)
    registration.refresh_from_db()
    assert registration.status == Status.REGISTERED


def test_a_started_slot_cannot_be_cancelled_online(client, slot):
    registration = make_registration(slot, mobile="13800138000")
    with time_machine.travel(slot_starts_at(slot), tick=False):
        page = client.get(reverse("openday_done", args=(registration.code,)))
        assert "不能参加？取消报名" not in html(page)
        response = client.post(reverse("openday_cancel"), {"code": registration.code, "mobile": "13800138000"})
    assert response.status_code == 400
    assert "0571-8888 6666" in html(response)
