"""SLA policies: the shipped defaults (DOMAIN.md), created once and never overwriting an
administrator's edit; which policy a case gets; and a policy edit never moving a running clock."""

import datetime as dt
import importlib
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError

from plugins.cases import clocks
from plugins.cases.models import CaseClock, Category, ClockKind, SLAPolicy, SLATarget, WorkCalendar
from tests.factories import ProjectFactory
from tests.plugins.cases.test_clocks import register_at  # noqa: F401 (fixture)

SH = ZoneInfo("Asia/Shanghai")
shipped = importlib.import_module("plugins.cases.migrations.0003_sla")


def at(*args):
    return dt.datetime(*args, tzinfo=SH)


def targets(policy):
    return {
        t.clock: (t.amount, t.unit, t.calendar.code if t.calendar else None, t.before_clock, t.remind_percent)
        for t in policy.targets.select_related("calendar")
    }


# --- Shipped defaults ----------------------------------------------------------------------------
def test_the_shipped_policies_are_domain_md_defaults(db):
    policies = {p.name: p for p in SLAPolicy.objects.all()}
    assert set(policies) == {"紧急报修", "加急报修", "一般报修", "投诉", "咨询"}
    callback = (3, "days", "office", "", 80)
    assert targets(policies["紧急报修"]) == {
        "contact": (30, "minutes", "always", "", 80), "on_site": (30, "minutes", "always", "", 80),
        "resolution": (24, "hours", "always", "", 80), "callback": callback,
    }
    assert (policies["紧急报修"].priority, policies["加急报修"].priority, policies["一般报修"].priority) == (
        "emergency", "urgent", "")
    assert targets(policies["加急报修"]) == {
        "contact": (30, "minutes", "always", "", 80), "resolution": (24, "hours", "always", "", 80),
        "callback": callback,
    }
    assert targets(policies["一般报修"]) == {
        "contact": (30, "minutes", "office", "", 80), "resolution": (48, "hours", "always", "", 80),
        "callback": callback,
    }
    assert targets(policies["投诉"]) == {
        "acknowledgement": (2, "hours", "always", "", 80), "answer": (24, "hours", "always", "", 80),
        "department_reply": (1, "hours", None, "answer", 80), "resolution": (72, "hours", "always", "", 80),
        "callback": (24, "hours", "always", "", 80), "recheck": (7, "days", "always", "", 80),
    }
    assert targets(policies["咨询"]) == {
        "answer": (24, "hours", "always", "", 80), "resolution": (72, "hours", "always", "", 80),
    }
    assert all(p.active and p.project is None and p.category is None for p in policies.values())


def test_running_the_defaults_again_keeps_edits_and_adds_nothing(db):
    routine = SLAPolicy.objects.get(name="一般报修")
    routine.targets.filter(clock="resolution").update(amount=36)
    SLAPolicy.objects.filter(name="咨询").update(active=False)
    before = (SLAPolicy.objects.count(), SLATarget.objects.count())
    shipped.create_policies(django_apps)
    assert (SLAPolicy.objects.count(), SLATarget.objects.count()) == before
    assert routine.targets.get(clock="resolution").amount == 36
    assert not SLAPolicy.objects.get(name="咨询").active


def test_the_defaults_restore_a_missing_policy_only_when_run_again(db):
    SLAPolicy.objects.filter(name="咨询").delete()
    shipped.create_policies(django_apps)
    assert targets(SLAPolicy.objects.get(name="咨询"))["answer"] == (24, "hours", "always", "", 80)


def test_policies_keep_a_history(db):
    policy = SLAPolicy.objects.get(name="投诉")
    policy.order = 50
    policy._change_reason = "调整顺序"
    policy.save()
    assert policy.history.first().history_change_reason == "调整顺序"


# --- Matching ------------------------------------------------------------------------------------
def make_policy(name, kind="repair", order=100, **fields):
    policy = SLAPolicy.objects.create(name=name, kind=kind, order=order, **fields)
    SLATarget.objects.create(policy=policy, clock=ClockKind.RESOLUTION, amount=5, unit="hours",
                             calendar=WorkCalendar.objects.get(code="always"))
    return policy


def test_routine_emergency_and_urgent_repairs_get_their_policies(new_case):
    assert clocks.policy_for(new_case()).name == "一般报修"
    assert clocks.policy_for(new_case(priority="urgent")).name == "加急报修"
    assert clocks.policy_for(new_case(category=Category.objects.get(code="emergency-lift"))).name == "紧急报修"
    assert clocks.policy_for(new_case(kind="complaint")).name == "投诉"
    assert clocks.policy_for(new_case(kind="enquiry")).name == "咨询"


def test_a_category_policy_wins_over_the_kind_policy_and_covers_the_children(new_case):
    public = Category.objects.get(code="public")
    make_policy("公共区域", category=public)
    assert clocks.policy_for(new_case(category=Category.objects.get(code="public-lift"))).name == "公共区域"
    assert clocks.policy_for(new_case(category=public)).name == "公共区域"
    assert clocks.policy_for(new_case(category=Category.objects.get(code="daily-plumbing"))).name == "一般报修"


def test_a_project_policy_wins_over_the_general_one(new_case, project):
    public = Category.objects.get(code="public")
    make_policy("公共区域", category=public)
    make_policy("本项目报修", project=project)
    make_policy("别的项目报修", project=ProjectFactory(code="SZ09"))
    assert clocks.policy_for(new_case(category=Category.objects.get(code="public-lift"))).name == "本项目报修"


def test_order_decides_before_specificity(new_case, project):
    make_policy("本项目报修", project=project, order=200)
    assert clocks.policy_for(new_case()).name == "一般报修"  # order 100 comes first


def test_inactive_policies_and_other_priorities_are_skipped(new_case):
    make_policy("停用", order=1, active=False)
    make_policy("仅加急", order=2, priority="urgent")
    assert clocks.policy_for(new_case()).name == "一般报修"
    assert clocks.policy_for(new_case(priority="urgent")).name == "仅加急"


def test_a_case_no_policy_matches_runs_no_clock(register_at):
    SLAPolicy.objects.filter(kind="enquiry").update(active=False)
    case = register_at(at(2026, 3, 10, 9, 0), kind="enquiry")
    assert clocks.policy_for(case) is None
    assert not case.clocks.exists()


def test_the_clock_remembers_its_policy(register_at):
    case = register_at(at(2026, 3, 10, 9, 0))
    assert case.clocks.get().policy.name == "一般报修"


# --- Edits never move running clocks --------------------------------------------------------------
def test_a_policy_edit_never_moves_a_running_clock_but_applies_to_the_next(register_at):
    first = register_at(at(2026, 3, 10, 9, 0))
    routine = SLAPolicy.objects.get(name="一般报修")
    target = routine.targets.get(clock="resolution")
    target.amount, target.remind_percent = 12, 50
    target.calendar = WorkCalendar.objects.get(code="office")
    target.save()
    running = CaseClock.objects.get(case=first)
    assert (running.amount, running.remind_percent, running.calendar.code) == (48, 80, "always")
    assert running.due_at == at(2026, 3, 12, 9, 0)
    # A pause and resume after the edit still use the copied target and calendar.
    clocks.pause_all(first, at(2026, 3, 10, 10, 0))
    clocks.resume_all(first, at(2026, 3, 10, 22, 0))
    running.refresh_from_db()
    assert running.due_at == at(2026, 3, 12, 21, 0)
    second = register_at(at(2026, 3, 10, 9, 0))
    new = CaseClock.objects.get(case=second)
    assert (new.amount, new.remind_percent, new.calendar.code) == (12, 50, "office")
    assert new.due_at == at(2026, 3, 11, 12, 0)  # 12 working hours: 8.5 on Tuesday, 3.5 on Wednesday


def test_deleting_a_policy_leaves_its_running_clocks(register_at):
    case = register_at(at(2026, 3, 10, 9, 0))
    SLAPolicy.objects.filter(name="一般报修").delete()
    running = CaseClock.objects.get(case=case)
    assert running.policy is None and running.due_at == at(2026, 3, 12, 9, 0)


# --- Row rules -----------------------------------------------------------------------------------
def test_a_relative_target_needs_minutes_or_hours_and_no_calendar_of_its_own(db):
    policy = SLAPolicy.objects.get(name="投诉")
    office = WorkCalendar.objects.get(code="office")
    for fields, field in [
        ({"unit": "days"}, "unit"),
        ({"calendar": office}, "calendar"),
        ({"before_clock": "department_reply"}, "before_clock"),
    ]:
        values = {"policy": policy, "clock": "department_reply", "amount": 1, "unit": "hours",
                  "before_clock": "answer", **fields}
        target = SLATarget(**values)
        with pytest.raises(ValidationError) as error:
            target.clean()
        assert field in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        SLATarget(policy=policy, clock="answer", amount=1, unit="hours").clean()
    assert "calendar" in error.value.message_dict


def test_a_policy_category_must_be_of_its_kind(db):
    policy = SLAPolicy(name="错配", kind="complaint", category=Category.objects.get(code="public"))
    with pytest.raises(ValidationError) as error:
        policy.clean()
    assert error.value.message_dict["category"] == ["分类与工单类型不符。"]
