"""Drill-down filters that must stay fast on a million cases: the plan, not a timing."""

import datetime as dt

from django.db import connection
from django.utils import timezone

from plugins.cases import drilldown
from plugins.cases.models import Case

from .conftest import contractor
from .test_intake_desk import query_plan


def test_the_holder_list_reads_its_page_from_the_holder_index(db):
    now = timezone.now()
    page = drilldown.apply_holder(Case.objects.filter(registered_at__gte=now - dt.timedelta(days=365),
                                                      registered_at__lt=now), 7).order_by("-registered_at")[:20]
    plan = query_plan(page.values("pk"))
    assert "case_holder_time" in plan, plan
    if connection.vendor == "sqlite":
        assert "USE TEMP B-TREE" not in plan, plan  # no sort: the index is in date order


def test_the_holder_is_the_original_contractor_else_the_contractor(new_case, agent):
    from plugins.cases import services

    first, rescuer, other = contractor(name="甲"), contractor(name="乙"), contractor(name="丙")
    handed = new_case()
    services.dispatch(handed, agent, contractor=first)
    services.hand_to_third_party(handed, agent, rescuer, "超时未修")
    kept = new_case()
    services.dispatch(kept, agent, contractor=rescuer)
    new_case()  # no contractor at all
    listed = {who.name: set(drilldown.apply_holder(Case.objects.all(), who.pk)) for who in (first, rescuer, other)}
    assert listed == {"甲": {handed}, "乙": {kept}, "丙": set()}
