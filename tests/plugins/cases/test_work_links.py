"""Contractor work links (/cases/w/<token>/): sent by SMS on dispatch, one case, expiring,
revocable; the contractor contacts the owner, arrives and finishes from a phone, each action on
the timeline in the contractor's name."""

import datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from notifications.models import Message
from plugins.cases import services, worklinks
from plugins.cases.models import CaseAttachment, CaseClock, CaseEvent, ClockKind, Status, WorkLink
from tests.forms.conftest import jpeg_bytes

from .conftest import contractor


def text(response):
    return response.content.decode()


def photo(name="现场.jpg"):
    return SimpleUploadedFile(name, jpeg_bytes(), "image/jpeg")


@pytest.fixture
def fixer(project):
    return contractor(name="安修公司", contact_name="张师傅", contact_mobile="13600136000")


@pytest.fixture
def dispatched(new_case, agent, fixer):
    def make(**overrides):
        case = new_case(**overrides)
        return services.dispatch(case, agent, contractor=fixer, assignee=agent)
    return make


def link_path(case):
    return worklinks.path_for(WorkLink.objects.filter(case=case, revoked_at__isnull=True).get())


def test_dispatching_to_a_contractor_texts_them_a_link_to_the_job(dispatched, fixer):
    case = dispatched()
    link = WorkLink.objects.get(case=case)
    assert link.contractor == fixer and link.live()
    sms = Message.objects.get(key=f"case:{case.pk}:worklink:{link.pk}", channel="sms")
    assert sms.address == "13600136000" and sms.urgent  # emergencies at night too
    assert sms.params["number"] == case.number and sms.params["contact_minutes"] == "30"
    assert sms.params["link"].endswith(worklinks.path_for(link))


def test_the_page_shows_the_job_with_the_owner_number_masked_until_call(dispatched, client):
    case = dispatched(reporter_mobile="13800138000")
    path = link_path(case)
    body = text(client.get(path))
    assert case.number in body and "卫生间天花板漏水" in body and case.unit.label in body
    assert "138****8000" in body and "13800138000" not in body
    response = client.post(f"{path}call/")
    assert response.status_code == 200 and 'href="tel:13800138000"' in text(response)
    link = WorkLink.objects.get(case=case)
    assert link.opened_at is not None and link.number_shown_at is not None


def test_contacted_on_site_and_done_land_on_the_timeline_as_the_contractor(dispatched, client):
    case = dispatched()
    path = link_path(case)
    assert client.post(f"{path}contacted/").status_code == 302
    contact = CaseClock.objects.get(case=case, clock=ClockKind.CONTACT)
    assert contact.stopped_at is not None  # the 30-minute rule measures this moment
    assert client.post(f"{path}on-site/").status_code == 302
    response = client.post(f"{path}done/", {"result": "更换止水阀", "before": [photo("前.jpg")],
                                            "photos": [photo("后.jpg"), photo("后2.jpg")]})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.COMPLETED
    events = CaseEvent.objects.filter(case=case, actor_type="contractor").order_by("pk")
    assert [e.verb for e in events] == ["contact", "on_site", "complete", "attach", "attach"]
    assert {e.actor_name for e in events} == {"安修公司"}
    purposes = sorted(CaseAttachment.objects.filter(case=case).values_list("purpose", flat=True))
    assert purposes == ["after", "after", "before"]
    body = text(client.get(path))
    assert "已完工，等待业主验收" in body and f"{path}done/" not in body


def test_done_twice_is_refused_with_a_message(dispatched, client):
    case = dispatched()
    path = link_path(case)
    client.post(f"{path}done/", {"result": "好了"})
    response = client.post(f"{path}done/", {"result": "好了"})
    assert response.status_code == 400 and "不能完工" in text(response)
    assert CaseEvent.objects.filter(case=case, verb="complete").count() == 1


def test_done_needs_a_result_and_refuses_files_that_are_not_photos(dispatched, client):
    case = dispatched()
    path = link_path(case)
    response = client.post(f"{path}done/", {"result": ""})
    assert response.status_code == 400 and "请填写处理结果" in text(response)
    bad = SimpleUploadedFile("x.txt", b"hello", "text/plain")
    response = client.post(f"{path}done/", {"result": "好了", "photos": [bad]})
    assert response.status_code == 400 and "不是可识别的图片" in text(response)
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and not CaseAttachment.objects.filter(case=case).exists()


def test_a_new_dispatch_revokes_the_old_link(dispatched, agent, client):
    case = dispatched()
    old = link_path(case)
    services.dispatch(case, agent, contractor=contractor(name="第二家"))
    response = client.get(old)
    assert response.status_code == 410 and "已作废" in text(response)
    assert client.post(f"{old}contacted/").status_code == 410
    assert client.get(link_path(case)).status_code == 200


def test_forged_altered_and_garbage_tokens_open_nothing(dispatched, client):
    from django.core import signing

    case = dispatched()
    token = link_path(case).rstrip("/").rsplit("/", 1)[1]
    value, signature = token.split(".")
    link_id, nonce = value.split("-", 1)
    forged = [
        f"{value}.{signature[:-3]}abc",  # altered signature
        f"{int(link_id) + 1}-{nonce}.{signature}",  # another id under this signature
        signing.Signer(salt="other", sep=".").sign(value),  # signed for something else
        worklinks._signer().sign(f"{link_id}-guessed1"),  # genuine signature, wrong nonce
        worklinks._signer().sign(f"{int(link_id) + 99}-{nonce}"),  # no such link
        "garbage",
    ]
    for bad in forged:
        response = client.get(f"/cases/w/{bad}/")
        assert response.status_code == 404 and "链接无效" in text(response), bad


def test_a_link_expires(dispatched, client, settings):
    case = dispatched()
    path = link_path(case)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=8)):
        response = client.get(path)
    assert response.status_code == 410 and "已过期" in text(response)


def test_a_closed_or_cancelled_case_ends_the_link(new_case, agent, fixer, client):
    case = services.dispatch(new_case(), agent, contractor=fixer)
    path = link_path(case)
    services.cancel(case, agent, "业主自行修好")
    response = client.get(path)
    assert response.status_code == 410 and "无需再处理" in text(response)


def test_a_link_opens_only_its_own_cases_files(dispatched, agent, client):
    first, second = dispatched(), dispatched()
    [theirs] = services.attach(second, services.Actor.system("资料员"), [photo()], purpose="report", visible_to_owner=True)
    [internal] = services.attach(first, services.Actor.system("资料员"), [photo()], purpose="evidence", visible_to_owner=False)
    [mine] = services.attach(first, services.Actor.system("资料员"), [photo()], purpose="report", visible_to_owner=True)
    path = link_path(first)
    assert client.get(f"{path}files/{theirs.pk}/").status_code == 404
    assert client.get(f"{path}files/{internal.pk}/").status_code == 404
    assert client.get(f"{path}files/{mine.pk}/").status_code == 200


def test_a_hand_over_to_a_third_party_sends_them_their_own_link(dispatched, agent, client, project):
    from tests.conftest import staff_with_perms

    manager = staff_with_perms("cases.manage_case", projects=[project], username="qm")
    case = dispatched()
    first = link_path(case)
    other = contractor(name="第三方维修", contact_mobile="13500135000")
    services.hand_to_third_party(case, manager, other, "超时未修好")
    assert client.get(first).status_code == 410
    link = WorkLink.objects.get(case=case, revoked_at__isnull=True)
    assert link.contractor == other
    assert Message.objects.filter(key=f"case:{case.pk}:worklink:{link.pk}", address="13500135000").exists()


def test_the_work_page_reads_a_bounded_number_of_queries(dispatched, agent, django_assert_max_num_queries):
    small, big = dispatched(), dispatched()
    for n in range(30):
        services.add_note(big, agent, f"进展 {n}", visible_to_owner=True)
    for case in (small, big):
        path = link_path(case)
        with django_assert_max_num_queries(15):
            assert Client().get(path).status_code == 200


def test_staff_resend_or_revoke_a_link_with_a_reason_on_the_timeline(dispatched, agent, client):
    case = dispatched()
    first = link_path(case)
    new = services.work_link(case, agent, renew=True, reason="师傅换了手机")
    assert client.get(first).status_code == 410
    assert client.get(worklinks.path_for(new)).status_code == 200
    services.work_link(case, agent, renew=False, reason="短信被转发")
    assert client.get(worklinks.path_for(new)).status_code == 410
    notes = CaseEvent.objects.filter(case=case, verb="work_link").order_by("pk")
    assert [e.actor_user for e in notes] == [agent, agent] and not any(e.visible_to_owner for e in notes)
    assert "短信被转发" in notes[1].text
    with pytest.raises(services.CaseRefused):
        services.work_link(case, agent, renew=True, reason="")


def test_a_dispatcher_sees_the_live_link_on_the_admin_case_page(dispatched, agent, client):
    case = dispatched()
    client.force_login(agent)
    body = text(client.get(f"/admin/snippets/cases/case/inspect/{case.pk}/"))
    assert "派工链接" in body and worklinks.path_for(WorkLink.objects.get(case=case)) in body


def test_a_re_dispatch_to_the_same_contractor_keeps_its_link(dispatched, agent, fixer, client):
    case = dispatched()
    path = link_path(case)
    services.dispatch(case, agent, contractor=fixer, assignee=agent, note="换个处理人")
    assert client.get(path).status_code == 200
    assert WorkLink.objects.filter(case=case).count() == 1
    assert Message.objects.filter(key__startswith=f"case:{case.pk}:worklink:").count() == 1
