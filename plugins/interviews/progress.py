"""Each employee's interviews in a calendar year against the yearly target (DOMAIN.md step 7:
12 a year, managers 6; the figures and who counts as a manager are rows in InterviewTargets).

"Behind pace": fewer interviews than the whole number the target asks for by now — target ×
the elapsed fraction of the year, rounded down (on 31 January 12 × 31/365 = 1.02, so one is
due; in a past year the whole target). Counting is bounded: one query for the settings row
and one for every staff member with their count, whatever the number of staff.

Who is counted: active staff who may log interviews through a group or a permission of their
own (a superuser's implicit rights do not make an account an interviewer) and serve the
projects in question (estates.StaffProfile: all projects, or one of them), and anyone who
interviewed in those projects that year.
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from estates import scope
from estates.models import StaffProfile

from .models import Interview, InterviewTargets, display_name


@dataclass(frozen=True)
class Progress:
    user_id: int
    name: str
    done: int
    target: int
    expected: int
    is_manager: bool

    @property
    def behind(self):
        return self.done < self.expected

    @property
    def met(self):
        return self.done >= self.target

    @property
    def shortfall(self):
        """How many interviews short of the pace."""
        return max(0, self.expected - self.done)

    @property
    def percent(self):
        return 100 if not self.target else min(100, self.done * 100 // self.target)


@dataclass(frozen=True)
class TeamProgress:
    year: int
    as_of: dt.date
    staff_target: int
    manager_target: int
    rows: list

    @property
    def behind(self):
        return sum(1 for row in self.rows if row.behind)

    @property
    def met(self):
        return sum(1 for row in self.rows if row.met)


def year_bounds(year):
    return dt.date(year, 1, 1), dt.date(year + 1, 1, 1)


def expected_by(target, year, as_of):
    """The whole number of interviews ``target`` asks for by the end of ``as_of``."""
    start, end = year_bounds(year)
    if as_of < start:
        return 0
    if as_of >= end - dt.timedelta(days=1):
        return target
    return target * ((as_of - start).days + 1) // (end - start).days


def as_of_in(year, today=None):
    """The last day of ``year`` counted so far: today in the current year, 31 December in a past one."""
    today = today or timezone.localdate()
    return min(today, dt.date(year, 12, 31))


def _may_log():
    """Holds ``interviews.add_interview`` through a group or directly."""
    through_group = Group.permissions.through.objects.filter(
        group__user=OuterRef("pk"), permission__content_type__app_label="interviews",
        permission__codename="add_interview")
    directly = User.user_permissions.through.objects.filter(
        user_id=OuterRef("pk"), permission__content_type__app_label="interviews",
        permission__codename="add_interview")
    return Exists(through_group) | Exists(directly)


def _is_manager(targets):
    manager_groups = InterviewTargets.manager_groups.through.objects.filter(
        interviewtargets_id=targets.pk).values("group_id")
    return Exists(User.groups.through.objects.filter(user_id=OuterRef("pk"), group_id__in=manager_groups))


def _count(interviews):
    counted = (interviews.filter(interviewer_id=OuterRef("pk")).order_by().values("interviewer_id")
               .annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _row(user, targets, year, as_of):
    target = targets.manager_target if user.is_manager else targets.staff_target
    return Progress(user_id=user.pk, name=display_name(user), done=user.done, target=target,
                    expected=expected_by(target, year, as_of), is_manager=user.is_manager)


def project_ids_in_scope(user, project_ids):
    """``project_ids`` (None: all) narrowed to the projects ``user`` may see; None means all."""
    allowed = scope.project_ids_for(user)
    if project_ids is None:
        return None if allowed is None else set(allowed)
    wanted = {int(pk) for pk in project_ids}
    return wanted if allowed is None else wanted & set(allowed)


def team_progress(user, project_ids, year, *, today=None, request=None):
    """Every staff member counted for ``project_ids`` (within ``user``'s scope) in ``year``,
    behind pace first, then by how far along they are."""
    ids = project_ids_in_scope(user, project_ids)
    targets = InterviewTargets.load(request)
    start, end = year_bounds(year)
    interviews = Interview.objects.filter(date__gte=start, date__lt=end)
    profiles = StaffProfile.objects.filter(user_id=OuterRef("pk"))
    if ids is not None:
        interviews = interviews.filter(project_id__in=ids)
        profiles = profiles.filter(Q(all_projects=True) | Q(projects__in=ids))
    staff = (
        User.objects.filter(is_active=True)
        .filter((Exists(profiles) & _may_log()) | Exists(interviews.filter(interviewer_id=OuterRef("pk"))))
        .annotate(done=_count(interviews), is_manager=_is_manager(targets))
        .only("pk", "username", "first_name", "last_name")
    )
    as_of = as_of_in(year, today)
    rows = [_row(person, targets, year, as_of) for person in staff]
    rows.sort(key=lambda row: (not row.behind, row.done * 1000 // max(row.target, 1), row.name))
    return TeamProgress(year=year, as_of=as_of, staff_target=targets.staff_target,
                        manager_target=targets.manager_target, rows=rows)


def own_progress(user, *, today=None, request=None):
    """The signed-in user's interviews this calendar year (in any project) against their target."""
    today = today or timezone.localdate()
    targets = InterviewTargets.load(request)
    start, end = year_bounds(today.year)
    interviews = Interview.objects.filter(date__gte=start, date__lt=end)
    me = (User.objects.filter(pk=user.pk).annotate(done=_count(interviews), is_manager=_is_manager(targets))
          .only("pk", "username", "first_name", "last_name").first())
    if me is None:
        return None
    return _row(me, targets, today.year, as_of_in(today.year, today))
