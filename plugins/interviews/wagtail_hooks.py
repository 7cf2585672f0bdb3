"""Owner interviews in the Wagtail admin: the 业主访谈 menu (我的访谈, 全部访谈), the interview
look-up, a section on the case desk's manager dashboard and the user's own progress on the
admin home."""

import datetime as dt

from django.urls import reverse
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.snippets.models import register_snippet

from estates.search import SEARCHERS

from . import progress, services
from .models import Interview
from .search import search_interviews
from .viewsets import InterviewViewSetGroup

SEARCHERS[Interview] = search_interviews
register_snippet(InterviewViewSetGroup)


def _list_url():
    return reverse("wagtailsnippets_interviews_interview:list")


class TeamProgressSection(Component):
    """Each staff member's interviews against the yearly target, for the calendar year that
    holds the last day of the dashboard's period, with how many are behind pace."""

    template_name = "interviews/admin/team_progress.html"

    def __init__(self, request, period):
        self.request = request
        self.period = period

    def get_context_data(self, parent_context=None):
        year = (self.period.end - dt.timedelta(days=1)).year
        team = progress.team_progress(self.request.user, self.period.project_ids, year, request=self.request)
        return {"team": team, "list_url": _list_url(), "year": year}


@hooks.register("cases_dashboard_sections")
def interview_progress_section(request, period):
    """For the case desk's manager dashboard (a hook it renders; this plugin imports nothing of
    it): only for staff who see everyone's interviews."""
    if not services.sees_all(request.user):
        return None
    return TeamProgressSection(request, period)


class MyProgressPanel(Component):
    """The admin home: the signed-in user's interviews this year against their target."""

    name = "interviews_my_progress"
    order = 150
    template_name = "interviews/admin/my_progress.html"

    def __init__(self, request):
        self.request = request

    def get_context_data(self, parent_context=None):
        mine = progress.own_progress(self.request.user, request=self.request)
        list_url = _list_url()
        return {"mine": mine, "mine_url": f"{list_url}?mine=1",
                "add_url": reverse("wagtailsnippets_interviews_interview:add")}


@hooks.register("construct_homepage_panels")
def add_my_progress_panel(request, panels):
    if services.may_log(request.user):
        panels.append(MyProgressPanel(request))
