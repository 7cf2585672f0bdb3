"""Each employee's interviews against the yearly target: the section the case desk's manager
dashboard renders from the hook ``cases_dashboard_sections``, the admin home panel with the
user's own progress, the pace rule, the targets edited in the admin, and bounded queries."""

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from wagtail import hooks

from plugins.interviews.models import InterviewTargets
from plugins.interviews.progress import expected_by, team_progress
from plugins.interviews.wagtail_hooks import MyProgressPanel, interview_progress_section

from .conftest import AGENT, html, text_of

SH = ZoneInfo("Asia/Shanghai")
#: 2 July 2026 is the 183rd day of 365: 12 × 183/365 = 6.02 → 6 due, 6 × 183/365 = 3.01 → 3.
TODAY = dt.datetime(2026, 7, 2, 10, 0, tzinfo=SH)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    project_ids: list | None = None


THIS_MONTH = Period(dt.date(2026, 7, 1), dt.date(2026, 8, 1))


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(TODAY, tick=False):
        yield


def interviews(log, user, count, day=dt.date(2026, 3, 1), **fields):
    for _ in range(count):
        log(user=user, date=day, **fields)


def render(user, period):
    request = RequestFactory().get("/admin/cases/dashboard/")
    request.user = user
    section = interview_progress_section(request, period)
    return None if section is None else section.render_html({"request": request})


def text_of_html(page):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize("day, target, expected", [
    (dt.date(2026, 1, 1), 12, 0), (dt.date(2026, 1, 31), 12, 1), (dt.date(2026, 7, 2), 12, 6),
    (dt.date(2026, 7, 2), 6, 3), (dt.date(2026, 12, 31), 12, 12), (dt.date(2025, 12, 31), 12, 0),
])
def test_the_pace_is_the_target_times_the_elapsed_part_of_the_year_rounded_down(day, target, expected):
    assert expected_by(target, 2026, day) == expected


def test_the_hook_is_registered_for_the_dashboard():
    assert interview_progress_section in hooks.get_hooks("cases_dashboard_sections")


@pytest.fixture
def team(log, member, agent, manager, other_project):
    """agent 7 this year (on pace), a colleague 2 (behind by 4), the manager 3 of 6 (on pace), an
    engineering liaison (no interview permission), an agent of the other project."""
    colleague = member(AGENT, "colleague", first_name="陈志强")
    interviews(log, agent, 7)
    interviews(log, agent, 5, day=dt.date(2025, 11, 1))  # last year: not counted this year
    interviews(log, colleague, 2)
    interviews(log, manager, 3, unit=None, owner=None)
    member("工程联络人", "liaison", first_name="吴工")
    far = member(AGENT, "far", projects=[other_project], first_name="赵远")
    interviews(log, far, 1, project=other_project, unit=None, owner=None)
    return colleague


def test_the_section_lists_each_staff_member_against_their_target(manager, team, project):
    page = render(manager, THIS_MONTH)
    text = text_of_html(page)
    assert "2026 年业主访谈进度" in text
    assert "年度目标：员工 12 次，经理 6 次。截至 2026-07-02：共 3 人，已完成 0 人，落后进度 1 人" in text
    assert "林晓燕 7 / 12 58% 6 进度正常" in text
    assert "陈志强 2 / 12 16% 6 落后 4 次" in text
    assert "周经理（经理） 3 / 6 50% 3 进度正常" in text
    assert text.index("陈志强") < text.index("林晓燕")  # behind pace first
    assert '<progress max="100" value="58"' in page
    for absent in ("吴工", "赵远"):
        assert absent not in text, absent  # no permission to interview; another project
    assert "<script" not in page


def test_the_projects_of_the_period_narrow_the_staff_and_the_counts(admin_user, team, project, other_project, log):
    page = text_of_html(render(admin_user, Period(THIS_MONTH.start, THIS_MONTH.end, [other_project.pk])))
    assert "赵远 1 / 12" in page and "林晓燕" not in page
    everyone = text_of_html(render(admin_user, THIS_MONTH))  # None: every project the superuser sees
    assert "赵远 1 / 12" in everyone and "林晓燕 7 / 12" in everyone


def test_a_limited_manager_never_sees_another_projects_staff(manager, team, other_project):
    page = text_of_html(render(manager, Period(THIS_MONTH.start, THIS_MONTH.end, [other_project.pk])))
    assert "赵远" not in page and "共 0 人" in page


def test_someone_who_interviewed_in_the_projects_counts_even_without_serving_them(manager, team, project):
    team.staff_profile.projects.clear()
    assert "陈志强 2 / 12" in text_of_html(render(manager, THIS_MONTH))


def test_a_period_ending_on_new_years_day_is_last_years_full_year(manager, team):
    text = text_of_html(render(manager, Period(dt.date(2025, 12, 1), dt.date(2026, 1, 1))))
    assert "2025 年业主访谈进度" in text and "截至 2025-12-31" in text
    assert "林晓燕 5 / 12 41% 12 落后 7 次" in text


def test_the_targets_are_edited_in_the_admin(client, manager, team):
    client.force_login(manager)
    targets = InterviewTargets.load()
    edit_url = f"/admin/settings/interviews/interviewtargets/{targets.pk}/"
    assert client.get("/admin/settings/interviews/interviewtargets/").status_code == 302
    response = client.post(edit_url, {"staff_target": "10", "manager_target": "4",
                                      "manager_groups": [g.pk for g in targets.manager_groups.all()]})
    assert response.status_code == 302, html(response)[-2000:]
    text = text_of_html(render(manager, THIS_MONTH))
    assert "林晓燕 7 / 10" in text and "周经理（经理） 3 / 4" in text


def test_staff_who_see_only_their_own_get_no_section(agent, team):
    assert render(agent, THIS_MONTH) is None


def test_the_section_query_count_does_not_grow_with_the_staff(manager, member, log, project):
    def count(user=None):
        # A fresh user object: its permissions and projects are read again (a dashboard has
        # read them already; then the section costs only the targets row and the staff list).
        user = user or type(manager).objects.get(pk=manager.pk)
        with CaptureQueriesContext(connection) as queries:
            render(user, THIS_MONTH)
        return len(queries)

    for n in range(3):
        log(user=member(AGENT, f"a{n}"), date=dt.date(2026, 5, 1))
    small = count()
    for n in range(3, 30):
        log(user=member(AGENT, f"a{n}"), date=dt.date(2026, 5, 1))
    assert len(team_progress(manager, None, 2026).rows) == 32  # the 30, the agent and the manager
    assert count() == small <= 6
    warm = type(manager).objects.get(pk=manager.pk)
    count(warm)
    assert count(warm) == 2


# --- The admin home ----------------------------------------------------------------------------


def test_the_home_panel_shows_the_users_own_progress(client, agent, manager, team):
    client.force_login(agent)
    text = text_of(client.get("/admin/"))
    assert "我的业主访谈" in text
    assert "今年已访谈 7 次，年度目标 12 次。" in text and "进度正常（目前应完成 6 次）" in text
    client.force_login(team)
    assert "按时间进度目前应完成 6 次，还差 4 次" in text_of(client.get("/admin/"))
    client.force_login(manager)
    assert "今年已访谈 3 次，年度目标 6 次。" in text_of(client.get("/admin/"))


def test_no_home_panel_without_the_permission_to_log(client, member, team):
    client.force_login(member("工程联络人", "liaison2"))
    response = client.get("/admin/")
    assert response.status_code == 200 and "我的业主访谈" not in text_of(response)


def test_the_home_panel_query_count(agent, team, member, django_assert_max_num_queries):
    request = RequestFactory().get("/admin/")
    request.user = agent
    with django_assert_max_num_queries(2):
        page = MyProgressPanel(request).render_html({"request": request})
    assert "今年已访谈 7 次" in page


def test_who_counts_as_a_manager_is_the_groups_in_the_targets(member, log, manager):
    InterviewTargets.load().manager_groups.set([Group.objects.get(name="质量经理")])
    log(user=member("质量经理", "quality2", first_name="钱质检"))
    text = text_of_html(render(manager, THIS_MONTH))
    # 客服经理 is no longer a manager group: the manager is held to the staff target.
    assert "钱质检（经理） 1 / 6" in text and "周经理 0 / 12" in text


def test_the_case_desks_dashboard_renders_the_section(admin_client, team):
    response = admin_client.get("/admin/cases/dashboard/")
    assert response.status_code == 200
    text = text_of(response)
    assert "2026 年业主访谈进度" in text and "林晓燕 7 / 12" in text
