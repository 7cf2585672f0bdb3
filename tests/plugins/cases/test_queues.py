"""The case desk's work queues (plugins/cases/queues.py): who is in which queue, the capped
counts in the menu, and the staff look-up by number, phone, unit and description."""

import datetime as dt

import pytest
import time_machine

from plugins.cases import queues, services
from plugins.cases.models import Case, Status
from plugins.cases.queues import QUEUES, queue_counts, queue_menu_label, search_cases
from tests.conftest import staff_with_perms
from tests.factories import BuildingFactory, DepartmentFactory, UnitFactory
from tests.plugins.cases.test_admin import LIST_URL, advance, listed, numbers, sidebar_menu

SH = dt.timezone(dt.timedelta(hours=8))


def members(slug, user):
    return numbers(*QUEUES[slug].apply(Case.objects.all(), user))


@pytest.fixture
def colleague(project):
    return staff_with_perms("cases.handle_case", "cases.dispatch_case", projects=[project], username="colleague")


@pytest.fixture
def board(agent, colleague, new_case):
    """One case in each state; the dispatched ones go to the agent unless named otherwise."""
    cases = {status: advance(new_case(), agent, status) for status in Status.values}
    cases["colleagues"] = advance(new_case(), agent, Status.IN_PROGRESS, assignee=colleague)
    cases["department_only"] = advance(new_case(), agent, Status.DISPATCHED, department=DepartmentFactory())
    return cases


def test_my_cases_are_my_open_cases(board, agent, colleague):
    mine = [board[s] for s in (Status.DISPATCHED, Status.IN_PROGRESS, Status.PAUSED)]
    assert members("mine", agent) == numbers(*mine)
    assert members("mine", colleague) == numbers(board["colleagues"])


def test_unassigned_are_registered_or_accepted_with_nobody_on_them(board, agent):
    assert members("unassigned", agent) == numbers(board[Status.REGISTERED], board[Status.ACCEPTED])


def test_awaiting_sign_off_and_call_back(board, agent):
    assert members("completed", agent) == numbers(board[Status.COMPLETED])
    assert members("signed_off", agent) == numbers(board[Status.SIGNED_OFF])


def test_counts_in_one_query(board, agent, django_assert_num_queries):
    with django_assert_num_queries(1):
        counts = queue_counts(agent)
    expected = {"mine": 3, "unassigned": 2, "completed": 1, "signed_off": 1}
    if hasattr(Case, "clocks"):
        expected.update(breached=len(members("breached", agent)), due_soon=len(members("due_soon", agent)))
    assert counts == expected


def test_counts_stop_at_the_cap(new_case, agent, monkeypatch):
    for _ in range(4):
        new_case()
    monkeypatch.setattr(queues, "COUNT_CAP", 2)
    counts = queue_counts(agent)
    assert counts["unassigned"] == 3
    assert queue_menu_label(QUEUES["unassigned"], counts["unassigned"]) == "未派单（2+）"
    assert queue_menu_label(QUEUES["mine"], 0) == "我的工单（0）"


def test_a_queue_is_a_filter_of_the_list(admin_client, board):
    response = admin_client.get(LIST_URL, {"queue": "unassigned", "kind": "repair"})
    assert listed(response) == numbers(board[Status.REGISTERED], board[Status.ACCEPTED])
    assert listed(admin_client.get(LIST_URL, {"queue": "completed"})) == numbers(board[Status.COMPLETED])


# --- The SLA queues (only with the SLA engine's clocks) ----------------------------------------

needs_clocks = pytest.mark.skipif(not hasattr(Case, "clocks"), reason="no CaseClock in this tree")


def clock_on(case, due, *, paused=False, breached=None, stopped=None, kind="resolution"):
    from plugins.cases.models import CaseClock, WorkCalendar

    CaseClock.objects.filter(case=case, clock=kind).delete()  # the clock the verbs started
    return CaseClock.objects.create(
        case=case, clock=kind, amount=4, unit="hours", calendar=WorkCalendar.objects.get(code="always"),
        started_at=due - dt.timedelta(hours=4), due_at=due, remind_at=due - dt.timedelta(hours=1),
        escalate_at=due + dt.timedelta(hours=2), paused_since=due - dt.timedelta(hours=3) if paused else None,
        breached_at=breached, stopped_at=stopped,
    )


@needs_clocks
def test_breached_and_due_within_two_hours(new_case, agent):
    now = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SH)
    late, late_recorded_then_paused, soon, later, paused_past_due, done_late, other = (new_case() for _ in range(7))
    from plugins.cases.models import CaseClock

    CaseClock.objects.all().delete()  # only the clocks below
    clock_on(late, now - dt.timedelta(minutes=1))
    clock_on(late_recorded_then_paused, now + dt.timedelta(hours=1), paused=True, breached=now - dt.timedelta(hours=1))
    clock_on(soon, now + dt.timedelta(minutes=119))
    clock_on(later, now + dt.timedelta(hours=2, minutes=1))
    clock_on(paused_past_due, now - dt.timedelta(hours=1), paused=True)
    clock_on(done_late, now - dt.timedelta(hours=1), breached=now - dt.timedelta(hours=1), stopped=now)
    clock_on(other, now + dt.timedelta(hours=5))
    clock_on(other, now + dt.timedelta(minutes=30), kind="contact")
    with time_machine.travel(now, tick=False):
        assert members("breached", agent) == numbers(late, late_recorded_then_paused)
        assert members("due_soon", agent) == numbers(soon, other)
        counts = queue_counts(agent)
    assert (counts["breached"], counts["due_soon"]) == (2, 2)


@needs_clocks
def test_the_breached_queue_alone_is_counted_from_the_clocks(admin_client, agent, new_case):
    # Unlimited staff with no other filter: the page count and the menu count read the running
    # clocks (one case with two late clocks counts once); any filter counts through the cases.
    now = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SH)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from plugins.cases.models import CaseClock

    twice, once, complaint, on_time = new_case(), new_case(), new_case(kind="complaint"), new_case()
    CaseClock.objects.all().delete()
    clock_on(twice, now - dt.timedelta(minutes=5))
    clock_on(twice, now - dt.timedelta(minutes=1), kind="contact")
    clock_on(once, now - dt.timedelta(hours=1))
    clock_on(complaint, now - dt.timedelta(hours=1))
    clock_on(on_time, now + dt.timedelta(hours=1))
    with time_machine.travel(now, tick=False):
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(LIST_URL, {"queue": "breached"})
        assert listed(response) == numbers(twice, once, complaint)
        assert response.context["paginator"].count == 3
        counts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
        assert any('SELECT DISTINCT "cases_caseclock"."case_id"' in sql for sql in counts)
        response = admin_client.get(LIST_URL, {"queue": "breached", "kind": "complaint"})
        assert listed(response) == numbers(complaint) and response.context["paginator"].count == 1
        response = admin_client.get(LIST_URL, {"queue": "breached", "kind": ""})
        assert response.context["paginator"].count == 3
        superuser = response.context["request"].user
        assert queue_counts(superuser)["breached"] == 3
        assert queue_counts(agent)["breached"] == 3  # limited to the project: through the cases


@needs_clocks
def test_the_case_page_shows_each_clock_with_the_time_left(admin_client, new_case):
    now = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SH)
    case = new_case()
    case.clocks.all().delete()
    clock_on(case, now + dt.timedelta(hours=1, minutes=30))
    clock_on(case, now - dt.timedelta(minutes=20), kind="contact")
    with time_machine.travel(now, tick=False):
        response = admin_client.get(f"{LIST_URL}inspect/{case.pk}/")
    page = response.content.decode()
    assert "时限" in page and "办结" in page and "联系业主" in page
    rows = {row["clock"].clock: row for row in response.context["clocks"]}
    assert str(rows["resolution"]["state"]) == "进行中" and rows["resolution"]["left"].startswith("剩余 1")
    assert str(rows["contact"]["state"]) == "已超时" and rows["contact"]["left"].startswith("超时 20")


# --- Search ------------------------------------------------------------------------------------


@pytest.fixture
def findable(new_case, project):
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=SH), tick=False):
        leak = new_case(reporter_mobile="13800138000", description="卫生间天花板漏水", reporter_name="王女士")
        lock = new_case(reporter_mobile="13912345678", description="入户门锁坏了", reporter_name="李先生",
                        unit=UnitFactory(building=BuildingFactory(project=project, code="12"), entrance="2",
                                         number="0801"))
    return leak, lock


@pytest.mark.parametrize("query, expected", [
    ("BX20261123-0001", "leak"),
    ("bx20261123-0002", "lock"),
    ("BX20261123", "both"),
    ("BX2026", "both"),
    ("TS20261123", "none"),
    ("13800138000", "leak"),
    ("+86 138-0013-8000", "leak"),
    ("1391234", "lock"),
    ("1380", "leak"),
    ("12-2-08", "lock"),
    ("12-2-0801", "lock"),
    ("漏水", "leak"),
    ("门锁", "lock"),
    ("李先生", "lock"),
    ("  ", "both"),
])
def test_search(findable, query, expected):
    leak, lock = findable
    found = set(search_cases(Case.objects.all(), query))
    assert found == {"leak": {leak}, "lock": {lock}, "both": {leak, lock}, "none": set()}[expected], query


def test_a_short_number_is_no_phone_prefix(findable):
    # "138" would match a good part of any city's mobiles: only unit labels start with it here.
    assert set(search_cases(Case.objects.all(), "138")) == set()


def test_search_queries_use_indexed_lookups(findable):
    sql = str(search_cases(Case.objects.all(), "13800138000").query)
    assert '"reporter_mobile" = ' in sql and "LIKE" not in sql.split("reporter_mobile")[1][:20]
    sql = str(search_cases(Case.objects.all(), "BX20261123-0001").query)
    assert '"number" = ' in sql


# --- The menu's cached counts (queues.menu_counts) -----------------------------------------------


def _unassigned_label(client):
    desk = sidebar_menu(client.get("/admin/"))["客服工单"]
    return next(label for label in desk if label.startswith("未派单"))


def test_the_menu_counts_once_then_reads_the_cache(client, agent, new_case):
    new_case()
    client.force_login(agent)
    assert _unassigned_label(client) == "未派单（1）"
    # Moved behind the services' back (no saved case): the menu keeps what it counted.
    Case.objects.update(status=Status.CLOSED)
    assert _unassigned_label(client) == "未派单（1）"
    assert queue_counts(agent)["unassigned"] == 0


def test_a_saved_case_makes_the_counts_stale_at_once(client, agent, new_case):
    case = new_case()
    client.force_login(agent)
    assert _unassigned_label(client) == "未派单（1）"
    services.dispatch(case, agent, assignee=agent)
    assert _unassigned_label(client) == "未派单（0）"
    new_case()
    assert _unassigned_label(client) == "未派单（1）"


def test_the_counts_are_recounted_after_their_seconds(client, agent, new_case):
    start = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SH)
    with time_machine.travel(start, tick=False) as traveller:
        new_case()
        client.force_login(agent)
        assert _unassigned_label(client) == "未派单（1）"
        Case.objects.update(status=Status.CLOSED)
        traveller.shift(dt.timedelta(seconds=29))
        assert _unassigned_label(client) == "未派单（1）"
        traveller.shift(dt.timedelta(seconds=2))
        assert _unassigned_label(client) == "未派单（0）"


def test_each_user_has_their_own_counts(client, agent, colleague, new_case):
    services.dispatch(new_case(), agent, assignee=agent)
    client.force_login(agent)
    desk = sidebar_menu(client.get("/admin/"))["客服工单"]
    assert "我的工单（1）" in desk
    client.force_login(colleague)
    desk = sidebar_menu(client.get("/admin/"))["客服工单"]
    assert "我的工单（0）" in desk


def test_the_counts_are_made_stale_again_after_the_commit(agent, new_case, django_capture_on_commit_callbacks):
    new_case()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queues.cases_changed()
    # A request between the change and its commit counts the rows it can see and caches them…
    assert queues.menu_counts(agent)["unassigned"] == 1
    Case.objects.update(status=Status.CLOSED)  # …then the commit makes other rows visible.
    assert queues.menu_counts(agent)["unassigned"] == 1
    assert len(callbacks) == 1
    callbacks[0]()
    assert queues.menu_counts(agent)["unassigned"] == 0


def test_zero_seconds_counts_on_every_page(client, agent, new_case, settings):
    settings.PLUGIN_SETTINGS = {"cases": {"QUEUE_COUNT_SECONDS": 0}}
    new_case()
    client.force_login(agent)
    assert _unassigned_label(client) == "未派单（1）"
    Case.objects.update(status=Status.CLOSED)
    assert _unassigned_label(client) == "未派单（0）"


def test_staff_serving_no_project_yet_see_empty_queues_not_an_error(client, new_case):
    new_case()
    newcomer = staff_with_perms("cases.view_case", projects=[], username="newcomer")
    assert set(queue_counts(newcomer).values()) == {0}
    client.force_login(newcomer)
    assert client.get("/admin/").status_code == 200
