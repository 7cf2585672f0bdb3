"""The daily complaint digest (每日投诉简报, plugins/cases/digest.py and digest_views.py): yesterday's
complaints frozen at publishing, one receipt and one outbox message per recipient, rows limited
to each reader's projects, the first opening recorded once, unread staff chased to their
supervisors once after the delay, the sweep publishing once the time of day has passed, the
admin list, page, rules and home panel with bounded queries."""

import datetime as dt
import io
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connections

from notifications.models import Message
from plugins.cases import digest, digest_views, services, tasks
from plugins.cases.models import Case, Category, ComplaintDigest, DigestReceipt, DigestSettings
from tests.conftest import staff_with_perms
from tests.factories import BuildingFactory, StaffProfileFactory, UnitFactory, UserFactory

from .conftest import ALL_VERBS
from .test_admin import html, sidebar_menu

SH = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 11, 23)
PUBLISH_AT = dt.datetime(2026, 11, 24, 8, 31, tzinfo=SH)
LIST = "/admin/cases/digests/"
SETTINGS = "/admin/cases/digests/settings/"
LONG_WORDS = "业主反映" + "楼上卫生间渗水导致天花板发霉" * 6  # 88 characters


def at(day, hour, minute=0):
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SH)


def page_url(d):
    return f"/admin/cases/digests/{d.pk}/"


def digest_messages(**filters):
    return Message.objects.filter(key__startswith="digest:", **filters)


# --- People and complaints ------------------------------------------------------------------------


@pytest.fixture
def other_unit(other_project):
    return UnitFactory(building=BuildingFactory(project=other_project, code="8"))


@pytest.fixture
def desk(project, other_project):
    """A staff member of every project who registers the complaints."""
    return staff_with_perms(*ALL_VERBS, all_projects=True, username="desk")


@pytest.fixture
def people(db, project, other_project, desk):
    """manager (客服经理, every project) ← lead (HZ01) ← hz (HZ01); sh (SH02) without supervisor;
    an inactive member and a user without a StaffProfile, who receive nothing."""
    manager = staff_with_perms("cases.view_case", all_projects=True, username="manager")
    manager.first_name = "经理"
    manager.save()
    # get_or_create: a transactional test may run after a flush took the migration's groups.
    manager.groups.add(Group.objects.get_or_create(name=digest.MANAGER_GROUP)[0])
    lead = staff_with_perms("cases.view_case", projects=[project], username="lead")
    lead.staff_profile.supervisor = manager
    lead.staff_profile.save()
    hz = staff_with_perms("cases.view_case", projects=[project], username="hz")
    hz.staff_profile.supervisor = lead
    hz.staff_profile.save()
    sh = staff_with_perms("cases.view_case", projects=[other_project], username="sh")
    gone = UserFactory(username="gone", is_active=False)
    StaffProfileFactory(user=gone, projects=[project])
    UserFactory(username="no-profile")
    return {"manager": manager, "lead": lead, "hz": hz, "sh": sh, "desk": desk, "gone": gone}


@pytest.fixture
def complain(desk, project, unit):
    def make(when, description="维修师傅上门态度恶劣，未穿鞋套。", project=project, unit=unit, grade="general",
             category="complaint-attitude", kind="complaint"):
        return services.register(
            desk, kind=kind, channel="hotline", project=project, unit=unit, reporter_name="沈女士",
            reporter_mobile="13800138000", description=description, complaint_grade=grade,
            category=Category.objects.get(code=category) if category else None, when=when,
        )

    return make


@pytest.fixture
def day_of_complaints(complain, other_project, other_unit):
    """Two complaints on DAY (one per project), and what must stay out: a repair on DAY and
    complaints a minute either side of it."""
    hz = complain(at(23, 0, 0), LONG_WORDS, grade="serious", category="complaint-quality")
    sh = complain(at(23, 23, 59), "物业费按建筑面积收取，与合同不符。", project=other_project, unit=other_unit,
                  grade="", category="complaint-fees")
    complain(at(22, 23, 59), "前一天的投诉")
    complain(at(24, 0, 0), "后一天的投诉")
    complain(at(23, 12), "卫生间漏水", kind="repair", grade="", category="daily-plumbing")
    return hz, sh


# --- Publishing -----------------------------------------------------------------------------------


def test_publish_freezes_yesterdays_complaints_of_every_project(people, day_of_complaints):
    hz, sh = day_of_complaints
    published = digest.publish(now=PUBLISH_AT)
    assert published.day == DAY and published.published_at == PUBLISH_AT
    assert published.chase_at == PUBLISH_AT + dt.timedelta(minutes=60)
    assert published.total == 2
    first, second = published.rows
    assert [first["number"], second["number"]] == [hz.number, sh.number]
    assert first["project_name"] == "钱塘雅苑" and second["project_name"] == "浦江云庭"
    assert first["category"] == "房屋质量" and second["category"] == "收费争议"
    assert first["grade_label"] == "重要投诉" and second["grade_label"] == ""
    assert first["status_label"] == "已登记"
    assert first["words"] == LONG_WORDS[:60] + "…" and len(first["words"]) == 61
    assert second["words"] == "物业费按建筑面积收取，与合同不符。"
    assert published.counts == {"projects": {str(hz.project_id): 1, str(sh.project_id): 1},
                                "grades": {"serious": 1, "": 1}}


def test_a_published_digest_does_not_change_when_its_cases_do(client, people, day_of_complaints, desk):
    hz, _sh = day_of_complaints
    published = digest.publish(now=PUBLISH_AT)
    services.accept(hz, desk)
    Case.objects.filter(pk=hz.pk).update(description="改过的描述", complaint_grade="major")
    published.refresh_from_db()
    assert published.rows[0]["status_label"] == "已登记" and published.rows[0]["grade_label"] == "重要投诉"
    client.force_login(people["hz"])
    page = html(client.get(page_url(published)))
    assert "已登记" in page and "已受理" not in page
    assert LONG_WORDS[:60] in page and "改过的描述" not in page and "重大投诉" not in page


def test_publishing_twice_does_nothing_the_second_time(people, day_of_complaints):
    assert digest.publish(now=PUBLISH_AT) is not None
    receipts, messages = DigestReceipt.objects.count(), digest_messages().count()
    assert digest.publish(now=PUBLISH_AT + dt.timedelta(hours=3)) is None
    assert digest.publish(DAY) is None
    assert ComplaintDigest.objects.count() == 1
    assert (DigestReceipt.objects.count(), digest_messages().count()) == (receipts, messages)


def test_a_receipt_for_every_active_staff_member_or_the_chosen_groups(people, day_of_complaints):
    published = digest.publish(now=PUBLISH_AT)
    received = set(published.receipts.values_list("user__username", flat=True))
    assert received == {"manager", "lead", "hz", "sh", "desk"}
    assert not published.receipts.filter(first_opened_at__isnull=False).exists()

    config = DigestSettings.load()
    config.groups.set([Group.objects.get(name=digest.MANAGER_GROUP)])
    later = digest.publish(DAY + dt.timedelta(days=1), now=PUBLISH_AT + dt.timedelta(days=1))
    assert set(later.receipts.values_list("user__username", flat=True)) == {"manager"}


def test_each_recipient_gets_a_chinese_email_and_inbox_notice_with_their_rows(people, day_of_complaints):
    hz_case, sh_case = day_of_complaints
    published = digest.publish(now=PUBLISH_AT)
    hz = people["hz"]
    mine = {m.channel: m for m in digest_messages(user=hz)}
    assert set(mine) == {"admin", "email"}
    email = mine["email"]
    assert email.key == f"digest:2026-11-23:user:{hz.pk}" and email.address == hz.email
    assert email.subject == "每日投诉简报 2026-11-23（共 1 件）"
    assert hz_case.number in email.body and sh_case.number not in email.body
    assert "钱塘雅苑 1 件" in email.body and "重要投诉 1 件" in email.body
    assert LONG_WORDS[:60] + "…" in email.body
    assert f"http://testserver/admin/cases/digests/{published.pk}/" in email.body
    assert mine["admin"].status == "sent" and mine["admin"].url == page_url(published)
    manager_email = digest_messages(user=people["manager"], channel="email").get()
    assert manager_email.subject == "每日投诉简报 2026-11-23（共 2 件）"
    assert hz_case.number in manager_email.body and sh_case.number in manager_email.body
    assert "未定级 1 件" in manager_email.body
    assert digest_messages().count() == 2 * 5


def test_publishing_takes_a_fixed_number_of_queries(people, day_of_complaints, project, other_project,
                                                    django_assert_max_num_queries):
    """Not one per recipient: 30 more recipients add at most a second batch of the bulk INSERT
    (SQLite caps the parameters of one statement)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        digest.publish(now=PUBLISH_AT)
    for n in range(30):
        staff_with_perms(projects=[project, other_project][: 1 + n % 2], username=f"more{n}")
    with django_assert_max_num_queries(len(few) + 2):
        digest.publish(DAY + dt.timedelta(days=1), now=PUBLISH_AT + dt.timedelta(days=1))
    assert DigestReceipt.objects.filter(digest__day=DAY + dt.timedelta(days=1)).count() == 35


def test_email_can_be_turned_off(people, day_of_complaints):
    DigestSettings.objects.update(send_email=False)
    digest.publish(now=PUBLISH_AT)
    assert set(digest_messages().values_list("channel", flat=True)) == {"admin"}


def test_a_day_without_complaints_still_publishes_saying_so(client, people):
    published = digest.publish(now=PUBLISH_AT)
    assert published.total == 0 and published.rows == []
    email = digest_messages(user=people["hz"], channel="email").get()
    assert email.subject == "每日投诉简报 2026-11-23（共 0 件）" and "昨日无投诉" in email.body
    client.force_login(people["hz"])
    response = client.get(page_url(published))
    assert response.status_code == 200 and "昨日无投诉" in html(response)


def test_a_reader_whose_projects_had_none_is_told_so(people, complain, other_project, other_unit):
    complain(at(23, 9), "东门未开通", project=other_project, unit=other_unit)
    digest.publish(now=PUBLISH_AT)
    hz_email = digest_messages(user=people["hz"], channel="email").get()
    assert hz_email.subject.endswith("（共 0 件）") and "昨日无投诉" in hz_email.body
    assert "东门未开通" in digest_messages(user=people["sh"], channel="email").get().body


# --- Reading ----------------------------------------------------------------------------------------


def test_the_page_shows_the_readers_projects_and_records_the_first_opening_once(client, people, day_of_complaints):
    hz_case, sh_case = day_of_complaints
    published = digest.publish(now=PUBLISH_AT)
    client.force_login(people["hz"])
    first = PUBLISH_AT + dt.timedelta(minutes=5)
    with time_machine.travel(first, tick=False):
        response = client.get(page_url(published))
    page = html(response)
    assert response.status_code == 200
    assert hz_case.number in page and sh_case.number not in page and "浦江云庭" not in page
    assert LONG_WORDS[:60] + "…" in page
    assert f'href="/admin/snippets/cases/case/inspect/{hz_case.pk}/"' in page
    receipt = DigestReceipt.objects.get(digest=published, user=people["hz"])
    assert receipt.first_opened_at == first
    with time_machine.travel(first + dt.timedelta(hours=2), tick=False):
        assert client.get(page_url(published)).status_code == 200
    receipt.refresh_from_db()
    assert receipt.first_opened_at == first
    assert DigestReceipt.objects.filter(first_opened_at__isnull=False).count() == 1


def test_a_manager_reads_everything(client, people, day_of_complaints):
    hz_case, sh_case = day_of_complaints
    published = digest.publish(now=PUBLISH_AT)
    client.force_login(people["manager"])
    page = html(client.get(page_url(published)))
    assert hz_case.number in page and sh_case.number in page


def test_who_may_open_a_digest(client, people, day_of_complaints, project):
    published = digest.publish(now=PUBLISH_AT)
    # Staff who joined after publishing (not a recipient), even with every case permission: 403.
    newcomer = staff_with_perms(*ALL_VERBS, projects=[project], username="newcomer")
    client.force_login(newcomer)
    response = client.get(page_url(published))
    assert response.status_code == 403 and "不在这份简报的接收范围内" in html(response)
    assert not DigestReceipt.objects.filter(user=newcomer).exists()
    # A 客服经理 reads it without being a recipient.
    newcomer.groups.add(Group.objects.get(name=digest.MANAGER_GROUP))
    client.force_login(newcomer)
    assert client.get(page_url(published)).status_code == 200
    # No such digest: 404 with a message.
    response = client.get(f"/admin/cases/digests/{published.pk + 100}/")
    assert response.status_code == 404 and "该简报不存在" in html(response)
    client.logout()
    assert client.get(page_url(published)).status_code == 302


def test_who_has_not_read_it_is_shown_to_supervisors_and_managers_only(client, people, day_of_complaints):
    published = digest.publish(now=PUBLISH_AT)
    client.force_login(people["lead"])
    page = html(client.get(page_url(published)))
    assert "阅读情况（您的下属）" in page and "已读 0 人，共 1 人" in page and "尚未阅读：hz" in page
    assert "sh" not in page.split("尚未阅读：")[1].split("<")[0]
    client.force_login(people["hz"])
    client.get(page_url(published))
    assert "阅读情况" not in html(client.get(page_url(published)))
    client.force_login(people["lead"])
    assert "全部已读" in html(client.get(page_url(published)))
    client.force_login(people["manager"])
    page = html(client.get(page_url(published)))
    assert "阅读情况（全部接收人）" in page and "已读 3 人，共 5 人" in page  # hz, lead, manager
    assert "尚未阅读：desk、sh" in page


# --- Chasing the unread -----------------------------------------------------------------------------


def chase_messages():
    return {(m.user.username, m.channel): m for m in digest_messages(key__contains=":chase:").select_related("user")}


def names(message):
    """The names a chase message lists (after its first line, before the link)."""
    return message.body.split("\n\n")[0].splitlines()[1:]


def test_the_unread_go_to_their_supervisors_once_after_exactly_the_delay(people, day_of_complaints):
    published = digest.publish(now=PUBLISH_AT)
    digest.record_opening(published, people["desk"], PUBLISH_AT + dt.timedelta(minutes=10))
    assert digest.chase(PUBLISH_AT + dt.timedelta(minutes=59, seconds=59)) == 0
    assert chase_messages() == {}
    due = PUBLISH_AT + dt.timedelta(minutes=60)
    assert digest.chase(due) == 2  # lead (for hz) and manager (for lead and sh)
    sent = chase_messages()
    assert set(sent) == {("lead", "admin"), ("lead", "email"), ("manager", "admin"), ("manager", "email")}
    to_lead, to_manager = sent[("lead", "email")], sent[("manager", "email")]
    assert to_lead.key == f"digest:2026-11-23:chase:{people['lead'].pk}"
    assert to_lead.subject == "每日投诉简报 2026-11-23：1 人尚未阅读"
    assert names(to_lead) == ["hz"]
    assert "截至 2026-11-24 09:31" in to_lead.body and "2026-11-24 08:31 发布" in to_lead.body
    assert to_manager.subject == "每日投诉简报 2026-11-23：2 人尚未阅读"
    assert names(to_manager) == ["lead", "sh"]  # desk read it; manager never chases self
    published.refresh_from_db()
    assert published.chased_at == due
    assert digest.chase(due + dt.timedelta(hours=5)) == 0
    assert len(digest_messages(key__contains=":chase:")) == 4


def test_the_chase_delay_comes_from_the_rules(people, day_of_complaints):
    DigestSettings.objects.update(chase_minutes=15)
    published = digest.publish(now=PUBLISH_AT)
    assert published.chase_at == PUBLISH_AT + dt.timedelta(minutes=15)
    assert digest.chase(PUBLISH_AT + dt.timedelta(minutes=14)) == 0
    assert digest.chase(PUBLISH_AT + dt.timedelta(minutes=15)) == 2


def test_nobody_unread_sends_no_chase(people, day_of_complaints):
    published = digest.publish(now=PUBLISH_AT)
    for user in published.receipts.values_list("user", flat=True):
        DigestReceipt.objects.filter(user=user).update(first_opened_at=PUBLISH_AT)
    assert digest.chase(PUBLISH_AT + dt.timedelta(hours=1)) == 0
    published.refresh_from_db()
    assert published.chased_at is not None and not digest_messages(key__contains=":chase:").exists()


# --- The sweep ----------------------------------------------------------------------------------------


def sweep(when):
    out = io.StringIO()
    with time_machine.travel(when, tick=False):
        call_command("sweep_cases", stdout=out)
    return out.getvalue()


def test_the_sweep_publishes_once_the_time_has_passed_and_chases_once(people, day_of_complaints):
    assert "每日投诉简报" not in sweep(at(24, 8, 29))
    assert not ComplaintDigest.objects.exists()
    line = sweep(at(24, 8, 31))
    assert len(line.splitlines()) == 1 and line.startswith("时限巡检：")
    assert "每日投诉简报：已发布 2026-11-23 的简报（5 人）。" in line
    assert ComplaintDigest.objects.get().day == DAY
    messages = digest_messages().count()
    again = sweep(at(24, 8, 31))
    assert "每日投诉简报" not in again
    assert ComplaintDigest.objects.count() == 1 and digest_messages().count() == messages
    assert "未读名单" not in sweep(at(24, 9, 30))
    assert "未读名单已发给 2 位上级" in sweep(at(24, 9, 31))
    assert "每日投诉简报" not in sweep(at(24, 9, 32))
    assert digest_messages(key__contains=":chase:").count() == 4


def test_the_sweep_follows_the_configured_time_and_can_be_turned_off(people, day_of_complaints):
    DigestSettings.objects.update(publish_time=dt.time(9, 0))
    sweep(at(24, 8, 31))
    assert not ComplaintDigest.objects.exists()
    DigestSettings.objects.update(enabled=False)
    sweep(at(24, 9, 1))
    assert not ComplaintDigest.objects.exists()
    DigestSettings.objects.update(enabled=True)
    sweep(at(24, 9, 0))
    assert ComplaintDigest.objects.get().day == DAY


def test_the_task_does_the_digest_too(people, day_of_complaints):
    with time_machine.travel(at(24, 8, 31), tick=False):
        result = tasks.sweep_cases.call()
    assert result["digest"] == {"published": "2026-11-23", "recipients": 5, "chased": 0}
    with time_machine.travel(at(24, 8, 32), tick=False):
        assert "digest" not in tasks.sweep_cases.call()


def test_the_rules_are_created_on_migrate_with_the_shipped_defaults(db):
    config = DigestSettings.objects.get()
    assert (config.enabled, config.publish_time, config.chase_minutes, config.send_email) == (
        True, dt.time(8, 30), 60, True)
    assert not config.groups.exists()
    assert Group.objects.get(name="客服经理").permissions.filter(codename="change_digestsettings").exists()


# --- The admin screens ------------------------------------------------------------------------------


def publish_days(n, start=DAY):
    for k in range(n):
        day = start - dt.timedelta(days=k)
        digest.publish(day, now=dt.datetime.combine(day + dt.timedelta(days=1), dt.time(8, 31), tzinfo=SH))


def test_the_list_is_newest_first_with_read_marks_and_counts(client, people, day_of_complaints):
    publish_days(3)
    newest = ComplaintDigest.objects.get(day=DAY)
    client.force_login(people["hz"])
    client.get(page_url(newest))
    response = client.get(LIST)
    rows = response.context["rows"]
    assert [row["digest"].day for row in rows] == [DAY, DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=2)]
    assert [row["unread"] for row in rows] == [False, True, True]
    assert [row["count"] for row in rows] == [1, 1, 0]  # hz sees HZ01 only
    assert not response.context["reading"] and "未读" in html(response)
    client.force_login(people["manager"])
    response = client.get(LIST)
    assert response.context["reading"] and "1 / 5" in html(response)
    assert [row["count"] for row in response.context["rows"]] == [2, 1, 0]
    client.force_login(people["lead"])
    assert "0 / 1" in html(client.get(LIST))


def test_the_list_shows_a_newcomer_nothing(client, people, day_of_complaints, project):
    publish_days(1)
    newcomer = staff_with_perms("cases.view_case", projects=[project], username="newcomer")
    client.force_login(newcomer)
    response = client.get(LIST)
    assert response.context["rows"] == [] and "还没有发给您的每日投诉简报" in html(response)


def test_no_menu_item_for_admin_users_who_are_not_staff(client, people):
    """A portal editor (admin access, no StaffProfile, not a 客服经理) is never a recipient."""
    editor = UserFactory(username="editor")
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    assert "每日投诉简报" not in sidebar_menu(client.get("/admin/"))
    editor.groups.add(Group.objects.get(name=digest.MANAGER_GROUP))
    # (Checked directly: a 客服经理 without a StaffProfile trips queues.queue_counts on /admin/.)
    assert digest_views.may_see_menu(type(editor).objects.get(pk=editor.pk))


def test_the_menu_item_for_readers_and_managers(client, people, day_of_complaints):
    publish_days(1)
    for name in ("hz", "manager"):
        client.force_login(people[name])
        assert sidebar_menu(client.get("/admin/"))["每日投诉简报"] == LIST


def test_list_queries_do_not_grow_with_digests(client, people, day_of_complaints, django_assert_max_num_queries):
    def count(user):
        client.force_login(user)
        client.get(LIST)  # menu counts cached from here on
        with django_assert_max_num_queries(20) as queries:
            assert client.get(LIST).status_code == 200
        return len(queries)

    publish_days(2)
    few = {name: count(people[name]) for name in ("hz", "lead", "manager")}
    publish_days(25, start=DAY - dt.timedelta(days=2))
    many = {name: count(people[name]) for name in ("hz", "lead", "manager")}
    assert few == many


def test_page_queries_do_not_grow_with_rows_or_readers(client, people, complain, project,
                                                     django_assert_max_num_queries):
    complain(at(23, 9))
    digest.publish(now=PUBLISH_AT)
    for n in range(30):
        complain(at(22, 9, n))
        staff_with_perms(projects=[project], username=f"extra{n}").staff_profile.__class__.objects.filter(
            user__username=f"extra{n}").update(supervisor=people["lead"])
    digest.publish(DAY - dt.timedelta(days=1), now=PUBLISH_AT - dt.timedelta(days=1))
    small, large = (ComplaintDigest.objects.get(day=DAY), ComplaintDigest.objects.get(day=DAY - dt.timedelta(days=1)))
    assert small.total == 1 and large.total == 30 and large.receipts.count() == 35

    def count(user, d):
        client.force_login(user)
        client.get(page_url(d))
        with django_assert_max_num_queries(20) as queries:
            assert client.get(page_url(d)).status_code == 200
        return len(queries)

    for name in ("hz", "lead", "manager"):
        assert count(people[name], small) == count(people[name], large), name


def test_the_admin_home_shows_todays_digest_until_read(client, people, day_of_complaints):
    digest.publish(now=PUBLISH_AT)
    client.force_login(people["hz"])
    with time_machine.travel(at(24, 9), tick=False):
        page = html(client.get("/admin/"))
        assert "每日投诉简报 2026-11-23（未读）" in page and "昨日共登记投诉 1 件" in page
        assert f'href="{page_url(ComplaintDigest.objects.get())}"' in page
        client.get(page_url(ComplaintDigest.objects.get()))
        assert "每日投诉简报 2026-11-23（未读）" not in html(client.get("/admin/"))
    client.force_login(people["sh"])
    with time_machine.travel(at(25, 9), tick=False):  # the next day it is no longer today's
        assert "（未读）" not in html(client.get("/admin/"))


# --- The rules ----------------------------------------------------------------------------------------


def test_the_rules_are_edited_by_managers_and_bad_values_are_refused(client, people):
    client.force_login(people["hz"])
    response = client.get(SETTINGS)
    assert response.status_code == 403 and "没有修改每日投诉简报设置的权限" in html(response)
    client.force_login(people["manager"])
    assert client.get(SETTINGS).status_code == 200
    valid = {"enabled": "on", "publish_time": "09:15", "chase_minutes": "30", "send_email": "on"}
    for field, value, message in [
        ("publish_time", "25:99", "发布时间格式不对"),
        ("publish_time", "八点半", "发布时间格式不对"),
        ("publish_time", "", "请填写发布时间"),
        ("chase_minutes", "0", "至少 1 分钟"),
        ("chase_minutes", "-5", "至少 1 分钟"),
        ("chase_minutes", "abc", "至少 1 分钟"),
    ]:
        response = client.post(SETTINGS, {**valid, field: value})
        assert response.status_code == 400 and message in html(response), (field, value)
    assert DigestSettings.objects.get().publish_time == dt.time(8, 30)
    group = Group.objects.get(name=digest.MANAGER_GROUP)
    response = client.post(SETTINGS, {**valid, "groups": [group.pk]})
    assert response.status_code == 302
    config = DigestSettings.objects.get()
    assert (config.publish_time, config.chase_minutes, config.send_email) == (dt.time(9, 15), 30, True)
    assert list(config.groups.all()) == [group]


# --- Demo -------------------------------------------------------------------------------------------


def test_the_demo_digest_is_published_with_some_receipts_read(people, complain):
    now = dt.datetime.now(SH)
    complain(now - dt.timedelta(days=1))
    out = io.StringIO()
    made = digest.seed_digest(stdout=out)
    assert made.total >= 1 and made.day == now.date() - dt.timedelta(days=1)
    read = made.receipts.filter(first_opened_at__isnull=False).count()
    assert 0 < read < made.receipts.count()
    assert "每日投诉简报" in out.getvalue()
    assert digest.seed_digest() is None


# --- PostgreSQL: two sweeps at once ---------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_publishes_make_one_digest(shipped_defaults, people, day_of_complaints):
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=20)
            results.append(digest.publish(DAY, now=PUBLISH_AT))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(results) == 2
    assert sum(result is not None for result in results) == 1
    assert ComplaintDigest.objects.count() == 1
    assert DigestReceipt.objects.count() == 5
    assert digest_messages().count() == 10
