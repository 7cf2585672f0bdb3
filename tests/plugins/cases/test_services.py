"""The case verbs: each checks permission, scope and state, and writes the change, exactly one
timeline event and one history row (with user and reason) — or refuses and changes nothing."""

import datetime as dt

import pytest
import time_machine

from estates.models import Department
from plugins.cases import services
from plugins.cases.models import Case, CaseEvent, Category, Status
from plugins.cases.services import Actor, CaseNotFound, CaseRefused
from tests.conftest import staff_with_perms
from tests.factories import UnitFactory
from tests.plugins.cases.conftest import contractor as serving_contractor

SH = dt.timezone(dt.timedelta(hours=8))


def trail(case):
    """(events, history rows) of ``case``."""
    return case.events.count(), case.history.count()


def test_register_numbers_cases_per_kind_and_day(new_case):
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=SH), tick=False):
        first, second = new_case(), new_case()
        complaint = new_case(kind="complaint", category=None)
    with time_machine.travel(dt.datetime(2026, 11, 24, 0, 5, tzinfo=SH), tick=False):
        next_day = new_case()
    assert [first.number, second.number] == ["BX20261123-0001", "BX20261123-0002"]
    assert complaint.number == "TS20261123-0001"
    assert next_day.number == "BX20261124-0001"


def test_register_days_follow_shanghai_not_utc(new_case):
    # 23:30 UTC on the 23rd is 07:30 on the 24th in Shanghai.
    with time_machine.travel(dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.timezone.utc), tick=False):
        assert new_case().number == "BX20261124-0001"


def test_register_writes_the_case_one_event_and_one_history_row(new_case, agent, unit):
    case = new_case()
    assert case.status == Status.REGISTERED
    assert case.reporter_mobile == "13800138000"
    assert case.building == unit.building
    assert trail(case) == (1, 1)
    event = case.events.get()
    assert (event.verb, event.actor_user, event.to_status, event.visible_to_owner) == (
        "register", agent, Status.REGISTERED, True)
    row = case.history.get()
    assert row.history_user == agent and row.history_change_reason == "登记"


def test_emergency_category_makes_the_case_an_emergency(new_case):
    burst = Category.objects.get(code="emergency-water")
    assert new_case(category=burst).priority == "emergency"


@pytest.mark.parametrize("overrides, code", [
    ({"reporter_mobile": "12345"}, "invalid_mobile"),
    ({"description": "   "}, "required"),
    ({"description": "漏" * 2001}, "too_long"),
    ({"reporter_name": ""}, "required"),
    ({"kind": "praise"}, "kind"),
    ({"category_code": "complaint-fees"}, "category"),
])
def test_register_refuses_bad_input_and_stores_nothing(new_case, overrides, code):
    if "category_code" in overrides:
        overrides = {"category": Category.objects.get(code=overrides.pop("category_code"))}
    with pytest.raises(Exception) as refused:
        new_case(**overrides)
    assert getattr(refused.value, "code", None) == code
    assert Case.objects.count() == 0 and CaseEvent.objects.count() == 0


def test_register_refuses_another_projects_unit_and_project(new_case, agent, other_project):
    with pytest.raises(CaseRefused) as refused:
        new_case(unit=UnitFactory())
    assert refused.value.code == "unit"
    with pytest.raises(CaseRefused) as refused:
        new_case(project=other_project, unit=None)
    assert refused.value.code == "scope"
    assert Case.objects.count() == 0


def test_full_repair_path_writes_one_event_and_one_history_row_per_change(new_case, agent):
    case = new_case()
    contractor = serving_contractor()
    case = services.accept(case, agent)
    case = services.dispatch(case, agent, contractor=contractor, department=Department.objects.create(code="ENG", name="工程部"))
    case = services.start(case, agent)
    case = services.pause(case, agent, "owner", note="业主出差，下周一再约")
    assert case.status == Status.PAUSED and case.paused_from == Status.IN_PROGRESS
    case = services.resume(case, agent)
    assert case.status == Status.IN_PROGRESS and case.pause_reason == ""
    case = services.complete(case, agent, "更换止水阀，已试水无渗漏")
    assert case.status == Status.COMPLETED and case.completed_at is not None
    assert trail(case) == (7, 7)
    verbs = list(case.events.values_list("verb", flat=True))
    assert verbs == ["register", "accept", "dispatch", "start", "pause", "resume", "complete"]
    reasons = list(case.history.order_by("history_id").values_list("history_change_reason", flat=True))
    assert reasons[4] == "等待业主"


def test_a_verb_in_the_wrong_state_changes_nothing(new_case, agent):
    case = new_case()
    with pytest.raises(CaseRefused) as refused:
        services.complete(case, agent, "已修好")
    assert refused.value.code == "state"
    assert "已登记" in refused.value.messages[0]
    case.refresh_from_db()
    assert case.status == Status.REGISTERED and trail(case) == (1, 1)


def test_reasons_are_required(new_case, agent):
    case = new_case()
    for verb, args in ((services.cancel, ("  ",)), (services.pause, ("",)), (services.complete, ("",))):
        with pytest.raises(CaseRefused):
            verb(case, agent, *args)
    with pytest.raises(CaseRefused):
        services.dispatch(case, agent)
    assert trail(case) == (1, 1)


def test_resume_returns_to_the_state_before_the_pause(new_case, agent):
    case = services.accept(new_case(), agent)
    case = services.pause(case, agent, "parts")
    assert services.resume(case, agent).status == Status.ACCEPTED


def test_cancel_needs_close_permission(new_case, project):
    case = new_case()
    clerk = staff_with_perms("cases.handle_case", projects=[project])
    with pytest.raises(CaseRefused) as refused:
        services.cancel(case, clerk, "业主撤回")
    assert refused.value.code == "permission"
    case.refresh_from_db()
    assert case.status == Status.REGISTERED


def test_another_projects_staff_cannot_touch_the_case(new_case, other_project):
    case = new_case()
    outsider = staff_with_perms("cases.handle_case", "cases.close_case", projects=[other_project])
    for verb, args in ((services.accept, ()), (services.cancel, ("不是我的",)), (services.add_note, ("看看",))):
        with pytest.raises(CaseNotFound):
            verb(case, outsider, *args)
    assert trail(case) == (1, 1)


def test_notes_add_an_event_but_no_history_row(new_case, agent):
    case = new_case()
    services.add_note(case, agent, "业主来电催促", visible_to_owner=False)
    assert trail(case) == (2, 1)
    with pytest.raises(CaseRefused):
        services.add_note(case, agent, "x" * 2001)


def test_the_system_and_owners_act_by_name(new_case, project, unit):
    case = services.register(
        Actor.system("网上报事"), kind="enquiry", channel="web", project=project, unit=unit,
        reporter_name="李先生", reporter_mobile="13900139000", description="请问何时办理房产证？",
    )
    row = case.history.get()
    assert row.history_user is None and "网上报事" in row.history_change_reason
    assert case.events.get().actor_type == "system"


def test_timeline_rows_cannot_be_edited_or_deleted(new_case):
    event = new_case().events.get()
    event.text = "改写"
    with pytest.raises(Exception):
        event.save()
    with pytest.raises(Exception):
        event.delete()
    assert CaseEvent.objects.get(pk=event.pk).text != "改写"
