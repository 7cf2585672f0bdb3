"""The case desk on the owner's 我的家 (owners/views.py, hook "owner_home_panels"): the cases of
the owner's current units and those registered in their name, newest first."""

from django.db.models import Q
from django.template.loader import render_to_string

from estates.models import Ownership

from .models import Case

#: Cases a panel lists; older ones wait for the owner's case pages.
PANEL_CASES = 20


def owner_cases(owner):
    units = Ownership.objects.filter(owner_id__in=owner.owner_ids, end__isnull=True).values("unit_id")
    return (Case.objects.filter(Q(unit_id__in=units) | Q(owner_id__in=owner.owner_ids))
            .select_related("category", "unit").order_by("-registered_at", "-pk"))


def cases_panel(request, owner):
    cases = list(owner_cases(owner)[:PANEL_CASES])
    return render_to_string("cases/owner_panel.html", {"cases": cases}, request=request)
