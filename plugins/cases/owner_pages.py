"""The case desk on the owner's 我的家 (owners/views.py, hook "owner_home_panels"): the cases of
the owner's current units and those registered in their name, newest first."""

from django.template.loader import render_to_string

from .models import Case
from .owner_access import owner_filter

#: Cases a panel lists; older ones wait for the owner's case pages.
PANEL_CASES = 20


def owner_cases(owner):
    return (Case.objects.filter(owner_filter(owner))
            .select_related("category", "unit").order_by("-registered_at", "-pk"))


def cases_panel(request, owner):
    cases = list(owner_cases(owner)[:PANEL_CASES])
    return render_to_string("cases/owner_panel.html", {"cases": cases}, request=request)
