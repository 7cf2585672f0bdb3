"""Automatic dispatch by routing rules (自动派单, plugins/cases/routing.py): which rule matches a
new case, who in its pool gets it (in turn, or the fewest open cases), that the dispatch is part
of the registration — an emergency is never left undispatched — and is written by the system in
the rule's name, and that routing costs a fixed number of queries."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from plugins.cases import routing, services
from plugins.cases.defaults import create_all
from plugins.cases.models import Case, CaseClock, CaseEvent, Category, RoutingRule, Status
from tests.conftest import staff_with_perms
from tests.factories import BuildingFactory, ContractorFactory, DepartmentFactory, ProjectFactory, UnitFactory
from tests.plugins.cases.conftest import ALL_VERBS

SH = ZoneInfo("Asia/Shanghai")
ROUND_ROBIN, LEAST_LOADED = RoutingRule.Strategy.ROUND_ROBIN, RoutingRule.Strategy.LEAST_LOADED


def make_rule(name="规则", pool=(), **fields):
    rule = RoutingRule.objects.create(name=name, **fields)
    rule.pool.set(pool)
    return rule


def member(username, project, **kwargs):
    """A staff member who may handle cases and serves ``project``."""
    return staff_with_perms("cases.handle_case", projects=[project] if project else [], username=username, **kwargs)


def category(code):
    return Category.objects.get(code=code)


def stored(case):
    return Case.objects.select_related("department", "contractor", "assignee").get(pk=case.pk)


@pytest.fixture
def eng(db):
    return DepartmentFactory(code="ENG", name="工程部")


@pytest.fixture
def service(db):
    return DepartmentFactory(code="CS", name="客服部")


# --- Which rule ---------------------------------------------------------------------------------


def test_a_case_no_rule_matches_stays_registered(new_case, agent, eng):
    make_rule(kind="complaint", department=eng)
    case = new_case()
    assert case.status == Status.REGISTERED
    assert stored(case).status == Status.REGISTERED and stored(case).department is None
    assert list(case.events.values_list("verb", flat=True)) == ["register"]
    assert case.history.count() == 1
    assert routing.route(case, services.as_actor(agent), case.registered_at) is None


def test_a_category_rule_takes_the_cases_of_its_children_too(new_case, eng):
    make_rule(category=category("daily"), department=eng)
    assert stored(new_case(category=category("daily-plumbing"))).department == eng
    assert stored(new_case(category=category("daily"))).department == eng
    assert stored(new_case(category=category("public-lift"))).status == Status.REGISTERED
    assert stored(new_case()).status == Status.REGISTERED  # no category: a category rule does not apply


def test_a_child_category_rule_does_not_take_its_parents_cases(new_case, eng):
    make_rule(category=category("daily-plumbing"), department=eng)
    assert stored(new_case(category=category("daily"))).status == Status.REGISTERED
    assert stored(new_case(category=category("daily-plumbing"))).department == eng


def test_a_building_rule_only_for_its_building_a_project_rule_for_its_project(
        new_case, agent, project, other_project, unit, eng, service):
    make_rule(name="钱塘雅苑", project=project, department=service)
    make_rule(name="3号楼", building=unit.building, project=project, department=eng)  # the later rule
    other_building = UnitFactory(building=BuildingFactory(project=project, code="4"))
    # At the same order the building's rule is the more specific one.
    assert stored(new_case()).department == eng
    assert stored(new_case(unit=other_building)).department == service
    assert stored(new_case(unit=None)).department == service  # no building: the project's rule
    other_agent = staff_with_perms(*ALL_VERBS, projects=[other_project], username="other-agent")
    theirs = services.register(other_agent, kind="repair", channel="hotline", project=other_project,
                               reporter_name="张先生", reporter_mobile="13700137000", description="外墙渗水")
    assert stored(theirs).status == Status.REGISTERED


def test_priority_and_kind_rules(new_case, eng, service):
    make_rule(priority="urgent", department=eng)
    make_rule(kind="complaint", department=service)
    assert stored(new_case(priority="urgent")).department == eng
    assert stored(new_case(priority="normal")).status == Status.REGISTERED
    complaint = new_case(kind="complaint", category=category("complaint-attitude"), description="态度差")
    assert stored(complaint).department == service


def test_an_inactive_rule_is_passed_over(new_case, eng, service):
    make_rule(name="停用", order=1, department=eng, active=False)
    make_rule(name="启用", order=2, department=service)
    assert stored(new_case()).department == service


def test_rules_are_tried_in_order_before_specificity(new_case, unit, eng, service):
    make_rule(name="通用", order=10, department=service)
    make_rule(name="3号楼", order=20, building=unit.building, department=eng)
    assert stored(new_case()).department == service
    RoutingRule.objects.filter(name="3号楼").update(order=5)
    assert stored(new_case()).department == eng


def test_a_rule_whose_targets_cannot_take_the_case_lets_the_next_one_try(new_case, project, other_project, eng):
    elsewhere = ContractorFactory(name="外地公司", projects=[other_project])
    retired = ContractorFactory(name="停用公司", projects=[project], active=False)
    nowhere = ContractorFactory(name="未设项目公司")  # serves no project: never dispatched to
    gone = member("gone", project)
    gone.is_active = False
    gone.save()
    make_rule(name="1", order=1, contractor=elsewhere)
    make_rule(name="2", order=2, contractor=retired)
    make_rule(name="3", order=3, contractor=nowhere)
    make_rule(name="4", order=4, department=eng, pool=[gone])  # a pool with nobody who may take it
    make_rule(name="5", order=5, department=eng)
    case = stored(new_case())
    assert (case.department, case.contractor, case.assignee) == (eng, None, None)
    assert "“5”" in case.events.get(verb="dispatch").text


# --- Who in the pool ---------------------------------------------------------------------------


def test_round_robin_goes_round_and_skips_who_may_not_take_the_case(new_case, project, other_project, eng):
    a = member("a", project)
    b = member("b", project)
    inactive = member("inactive", project)
    inactive.is_active = False
    inactive.save()
    elsewhere = member("elsewhere", other_project)
    no_rights = staff_with_perms("cases.view_case", projects=[project], username="no-rights")
    c = member("c", project)
    rule = make_rule(department=eng, pool=[a, b, inactive, elsewhere, no_rights, c], strategy=ROUND_ROBIN)
    assert [stored(new_case()).assignee for _ in range(4)] == [a, b, c, a]
    rule.refresh_from_db()
    assert rule.last_assignee == a
    # The pointer is no history: the rule's history holds its edits only.
    assert rule.history.count() == 1


def test_round_robin_goes_on_after_the_last_assignee_left_the_pool(new_case, project):
    a, b, c = member("a", project), member("b", project), member("c", project)
    rule = make_rule(pool=[a, b, c])
    assert stored(new_case()).assignee == a
    assert stored(new_case()).assignee == b
    rule.pool.remove(b)
    assert stored(new_case()).assignee == c
    assert stored(new_case()).assignee == a


def test_all_projects_staff_and_superusers_serve_every_project(new_case, project, admin_user):
    everywhere = staff_with_perms("cases.handle_case", all_projects=True, username="everywhere")
    make_rule(pool=[everywhere, admin_user])
    assert {stored(new_case()).assignee for _ in range(2)} == {everywhere, admin_user}


def test_least_loaded_picks_the_fewest_open_cases_ties_by_id(new_case, agent, project):
    a, b, c = member("a", project), member("b", project), member("c", project)
    for person, count in ((a, 2), (b, 1), (c, 2)):
        for _ in range(count):
            services.dispatch(new_case(), agent, assignee=person)
    services.cancel(Case.objects.filter(assignee=c).first(), agent, "重复登记")
    services.cancel(Case.objects.filter(assignee=c).last(), agent, "重复登记")  # c: none open
    make_rule(pool=[a, b, c], strategy=LEAST_LOADED)
    assert stored(new_case()).assignee == c  # a 2, b 1, c 0
    assert stored(new_case()).assignee == b  # a 2, b 1, c 1: b has the smaller id
    assert stored(new_case()).assignee == c  # a 2, b 2, c 1


# --- The dispatch -------------------------------------------------------------------------------


def test_an_emergency_is_dispatched_at_registration_by_the_system_in_the_rules_name(
        new_case, agent, project, eng):
    engineer = member("engineer", project)
    engineer.first_name = "李工"
    engineer.save()
    crew = ContractorFactory(name="抢修公司", projects=[project])
    make_rule(name="紧急抢修", priority="emergency", department=eng, contractor=crew, pool=[engineer])
    moment = dt.datetime(2026, 3, 14, 20, 0, tzinfo=SH)
    with time_machine.travel(moment, tick=False):
        case = new_case(category=category("emergency-water"), description="爆管，水漫到楼道")
    # The instance register returns is up to date …
    assert (case.priority, case.status, case.assignee, case.contractor) == ("emergency", "dispatched", engineer, crew)
    # … and so is the row.
    row = stored(case)
    assert (row.status, row.department, row.contractor, row.assignee) == ("dispatched", eng, crew, engineer)
    assert row.dispatched_at == moment
    register, dispatch = case.events.order_by("created_at", "pk")
    assert (register.verb, register.actor_type, register.actor_user) == ("register", "staff", agent)
    assert (dispatch.verb, dispatch.actor_type, dispatch.actor_user) == ("dispatch", "system", None)
    assert dispatch.actor_name == "自动派单：紧急抢修"
    assert dispatch.text == "按派单规则“紧急抢修”派给工程部、抢修公司、李工。"
    assert (dispatch.from_status, dispatch.to_status) == ("registered", "dispatched")
    assert dispatch.data == {"department": eng.pk, "contractor": crew.pk, "assignee": engineer.pk}
    history = list(case.history.order_by("history_date", "history_id"))
    assert len(history) == 2
    assert history[-1].history_user is None
    assert history[-1].history_change_reason == "[系统：自动派单：紧急抢修] 派单"
    assert history[-1].status == "dispatched"
    # The contractor's 30 minutes run from the dispatch.
    contact = CaseClock.objects.get(case=case, clock="contact")
    assert contact.due_at == moment + dt.timedelta(minutes=30)


def test_registration_and_routing_are_one_transaction(new_case, eng, monkeypatch):
    make_rule(priority="emergency", department=eng)

    def broken(*args, **kwargs):
        raise DatabaseError("the dispatch failed")

    monkeypatch.setattr(services, "dispatch", broken)
    with pytest.raises(DatabaseError):
        new_case(category=category("emergency-power"))
    # Nothing half done: no emergency sits registered but undispatched.
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_route_returns_the_rule_it_dispatched_by(new_case, agent, eng):
    rule = make_rule(department=eng, active=False)
    case = new_case()
    assert case.status == Status.REGISTERED
    RoutingRule.objects.filter(pk=rule.pk).update(active=True)
    assert routing.route(case, services.as_actor(agent), case.registered_at) == rule
    assert stored(case).department == eng


# --- Cost ---------------------------------------------------------------------------------------


def routing_queries(new_case, monkeypatch):
    """(queries of routing itself, queries of the dispatch it asked for) of one registration."""
    dispatch, inside = services.dispatch, []

    def counted(*args, **kwargs):
        with CaptureQueriesContext(connection) as queries:
            result = dispatch(*args, **kwargs)
        inside.append(len(queries))
        return result

    monkeypatch.setattr(services, "dispatch", counted)
    with CaptureQueriesContext(connection) as total:
        new_case()
    monkeypatch.setattr(services, "dispatch", dispatch)
    return len(total), sum(inside)


def test_routing_costs_a_fixed_number_of_queries(new_case, project, other_project, eng, monkeypatch):
    new_case()  # the day's counter row exists, the agent's scope is cached
    with CaptureQueriesContext(connection) as unrouted:  # no rule: routing reads the rules, once
        new_case()

    def extra(queries):
        """Queries beyond an unrouted registration, the dispatch's own left out."""
        total, dispatch = queries
        assert dispatch > 0  # it did dispatch
        return total - dispatch - len(unrouted)

    people = [member(f"p{n}", project) for n in range(12)]
    rule = make_rule(department=eng)
    assert extra(routing_queries(new_case, monkeypatch)) == 0  # no pool: nothing more to read
    rule.pool.set(people[:1])
    assert extra(routing_queries(new_case, monkeypatch)) == 3  # the pools, the lock, the pointer

    # Thirty matching rules that cannot take the case, each with a big pool; then a big pool.
    elsewhere = ContractorFactory(projects=[other_project])
    for n in range(30):
        make_rule(name=f"外地{n}", order=1, contractor=elsewhere, pool=people)
    rule.pool.set(people)
    assert extra(routing_queries(new_case, monkeypatch)) == 3
    RoutingRule.objects.filter(pk=rule.pk).update(strategy=LEAST_LOADED)
    assert extra(routing_queries(new_case, monkeypatch)) == 4  # + the open-case count
    assert Case.objects.filter(assignee__isnull=False).count() == 3


# --- Two registrations at the same moment (PostgreSQL) -------------------------------------------


def run_together(*calls):
    """Start every call at the same moment, each on its own connection; return their errors."""
    barrier = threading.Barrier(len(calls))
    errors = []

    def run(call):
        try:
            barrier.wait()
            call()
        except Exception as error:  # collected for the assertion
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("strategy, attempt", [(ROUND_ROBIN, n) for n in range(3)] + [(LEAST_LOADED, 0)])
def test_two_registrations_at_once_go_to_two_pool_members(strategy, attempt):
    create_all(apps)  # the flush of a transactional test removed the shipped defaults
    project = ProjectFactory(code="HZ01")
    unit = UnitFactory(building=BuildingFactory(project=project))
    agent = staff_with_perms(*ALL_VERBS, projects=[project], username="agent")
    a, b = member("a", project), member("b", project)
    make_rule(pool=[a, b], strategy=strategy)

    def register(kind, category_code):
        # Different kinds: their case-number counters are different rows, so nothing but the
        # rule's lock keeps the two registrations apart.
        return lambda: services.register(
            agent, kind=kind, channel="hotline", project=project, unit=unit, category=category(category_code),
            reporter_name="王女士", reporter_mobile="13800138000", description="同时来电")

    errors = run_together(register("repair", "daily-plumbing"), register("complaint", "complaint-attitude"))
    assert errors == []
    assert sorted(Case.objects.values_list("assignee__username", flat=True)) == ["a", "b"]
    assert set(Case.objects.values_list("status", flat=True)) == {"dispatched"}
