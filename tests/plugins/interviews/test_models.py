"""Logging an interview (services.log_interview, Interview.clean): the unit belongs to the
project, the owner is a current owner of the unit, the date is not in the future, a finding has
a text; staff log only in their projects and see only what they may."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from plugins.interviews import services
from plugins.interviews.models import Finding, Interview, InterviewTargets
from tests.factories import OwnershipFactory, UserFactory

from .conftest import AGENT, QUALITY


def messages(error):
    return " ".join(error.value.messages)


def test_an_interview_is_stored_with_its_findings_and_history(agent, log, project, unit, owner):
    interview = log(findings=[("repair", "卫生间漏水", "渗漏水"), ("enquiry", "办证时间", "")])
    assert (interview.interviewer, interview.project, interview.unit, interview.owner) == (agent, project, unit, owner)
    assert [(f.kind, f.text, f.category_hint, f.case_reference) for f in interview.findings.all()] == [
        ("repair", "卫生间漏水", "渗漏水", ""), ("enquiry", "办证时间", "", "")]
    (row,) = interview.history.all()
    assert row.history_user == agent and row.history_type == "+"
    assert all(f.history.get().history_user == agent for f in interview.findings.all())


def test_unit_and_owner_are_optional(log):
    interview = log(unit=None, owner=None, topics="社区活动")
    assert interview.unit is None and interview.owner is None


def test_a_unit_of_another_project_is_refused(log, other_unit):
    with pytest.raises(ValidationError) as error:
        log(unit=other_unit, owner=None)
    assert "房号“5-1-801”不属于所选项目" in messages(error)
    assert not Interview.objects.exists()


def test_an_owner_who_is_not_an_owner_of_the_unit_is_refused(log, other_owner):
    with pytest.raises(ValidationError) as error:
        log(owner=other_owner)
    assert "“赵建国”不是房号“3-1-1502”的现业主" in messages(error)


def test_a_former_owner_of_the_unit_is_refused(log, unit, owner):
    owner.ownerships.update(end=dt.date(2025, 1, 1))
    with pytest.raises(ValidationError) as error:
        log()
    assert "不是房号“3-1-1502”的现业主" in messages(error)


def test_an_owner_without_a_unit_must_own_one_in_the_project(log, owner, other_owner, unit):
    assert log(unit=None).owner == owner
    with pytest.raises(ValidationError) as error:
        log(unit=None, owner=other_owner)
    assert "“赵建国”在所选项目没有房产" in messages(error)
    # Owning a unit in the project as well makes them an owner there.
    OwnershipFactory(owner=other_owner, unit=unit)
    assert log(unit=None, owner=other_owner).owner == other_owner


def test_a_date_in_the_future_is_refused_today_is_fine(log):
    today = timezone.localdate()
    assert log(date=today).date == today
    with pytest.raises(ValidationError) as error:
        log(date=today + dt.timedelta(days=1))
    assert "访谈日期不能晚于今天" in messages(error)
    assert Interview.objects.count() == 1


@pytest.mark.parametrize("text", ["", "   "])
def test_a_finding_needs_a_text(log, text):
    with pytest.raises(ValidationError):
        log(findings=[("repair", text, "")])
    assert not Interview.objects.exists() and not Finding.objects.exists()


def test_a_finding_needs_a_kind(log):
    with pytest.raises(ValidationError):
        log(findings=[("", "漏水", "")])
    assert not Interview.objects.exists()


def test_staff_log_only_in_their_projects(log, other_project):
    with pytest.raises(services.InterviewRefused) as error:
        log(project=other_project, unit=None, owner=None)
    assert "您不负责该项目" in messages(error)


def test_staff_without_the_permission_cannot_log(log, project):
    nobody = UserFactory(username="nobody")
    with pytest.raises(services.InterviewRefused) as error:
        log(user=nobody)
    assert "没有登记业主访谈的权限" in messages(error)


def test_who_sees_which_interviews(log, member, manager, agent, other_project, project):
    mine = log()
    colleague = member(AGENT, "colleague")
    theirs = log(user=colleague)
    far_agent = member(AGENT, "far", projects=[other_project])
    far = log(user=far_agent, project=other_project, unit=None, owner=None)
    quality = member(QUALITY, "quality")

    def seen(user):
        return set(services.visible_interviews(user))

    assert seen(agent) == {mine}  # staff: their own
    assert seen(colleague) == {theirs}
    assert seen(manager) == seen(quality) == {mine, theirs}  # managers: their projects'
    assert seen(far_agent) == {far}
    assert services.may_edit(agent, mine) and not services.may_edit(agent, theirs)
    assert services.may_edit(manager, theirs) and not services.may_edit(quality, theirs)


def test_the_yearly_targets_ship_with_the_seeds_figures(db):
    targets = InterviewTargets.load()
    assert (targets.staff_target, targets.manager_target) == (12, 6)
    assert [group.name for group in targets.manager_groups.all()] == ["客服经理"]
