"""seed_demo: a believable demo registry, idempotent, deterministic, every row with history."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q

from estates.management.commands.seed_demo import (
    CHANGE_REASON,
    SMALL_UNITS,
    build_plan,
)
from estates.models import (
    Building,
    Contractor,
    Department,
    HandoverStatus,
    Owner,
    Ownership,
    Project,
    Unit,
)
from estates.normalize import normalize_mobile

pytestmark = pytest.mark.django_db

MODELS = (Project, Building, Unit, Owner, Ownership, Department, Contractor)


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts():
    return {model.__name__: (model.objects.count(), model.history.count()) for model in MODELS}


def test_small_demo_is_complete_and_believable():
    output = seed("--size", "small")

    assert Project.objects.count() == 2
    assert set(Project.objects.values_list("city", flat=True)) == {"杭州", "成都"}
    for project in Project.objects.all():
        assert project.code and project.address and project.hotline
        assert "客户服务方案" in project.service_plan and project.hotline in project.service_plan
    assert Building.objects.count() == 10
    assert Unit.objects.count() == SMALL_UNITS
    assert 1800 <= SMALL_UNITS <= 2200

    # Bulk paths bypass Unit.save(): project and label must still be right on every unit.
    assert not Unit.objects.exclude(project=F("building__project")).exists()
    for label, code, entrance, number in Unit.objects.values_list(
        "label", "building__code", "entrance", "number"
    ):
        assert label and label == Unit.make_label(code, entrance, number)
    assert Unit.objects.filter(label="2-1-1502").exists()

    from home.models import ProjectPage

    # The portal is seeded on top of the registry: one live page per project.
    assert ProjectPage.objects.live().count() == 2

    statuses = dict(Unit.objects.values_list("handover_status").annotate(n=Count("id")))
    assert statuses[HandoverStatus.HANDED_OVER] > 1000
    assert statuses[HandoverStatus.PENDING] > 100
    assert not Unit.objects.filter(
        handover_status=HandoverStatus.HANDED_OVER, handover_date__isnull=True
    ).exists()
    assert not Unit.objects.filter(handover_date__isnull=False).exclude(
        handover_status=HandoverStatus.HANDED_OVER
    ).exists()
    assert Unit.objects.filter(layout="三室两厅两卫", area__gt=100).exists()

    # Owners: valid mobiles, Chinese names, ID numbers only as hash + last 4.
    for mobile, name, id_hash, last4 in Owner.objects.values_list(
        "mobile", "name", "id_hash", "id_last4"
    ):
        assert normalize_mobile(mobile) == mobile
        assert 2 <= len(name) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in name)
        assert (len(id_hash), len(last4)) in {(64, 4), (0, 0)}
    assert Owner.objects.exclude(id_hash="").count() > Owner.objects.count() * 0.7
    assert Owner.objects.values("mobile").distinct().count() == Owner.objects.count()

    # Most sold units have one owner, some two (exactly one primary), some are unsold.
    per_unit = Unit.objects.annotate(
        owners=Count("ownerships"), primaries=Count("ownerships", filter=Q(ownerships__is_primary=True))
    )
    assert per_unit.filter(owners=0).count() > 50
    assert per_unit.filter(owners=1).count() > per_unit.filter(owners=2).count() > 100
    assert not per_unit.filter(owners__gt=0).exclude(primaries=1).exists()
    assert not per_unit.filter(owners=0, handover_status=HandoverStatus.HANDED_OVER).exists()

    assert {"客服部", "工程部", "物业服务中心", "法务部", "营销部", "质量管理部"} <= set(
        Department.objects.values_list("name", flat=True)
    )
    for contractor in Contractor.objects.all():
        assert contractor.trades.exists() and contractor.projects.exists()
        assert contractor.contact_name and normalize_mobile(contractor.contact_mobile)
        assert contractor.warranty_deposit > 0

    # Every row has its creation history row, with the demo reason.
    for model in MODELS:
        assert model.history.filter(history_type="+").count() == model.objects.count() > 0
        assert not model.history.exclude(history_change_reason=CHANGE_REASON).exists()

    assert f"房号 {SMALL_UNITS:,}（本次新增 {SMALL_UNITS:,}）" in output
    assert "用时" in output


def test_second_run_creates_nothing_with_few_queries(django_assert_max_num_queries):
    seed("--units", "300", "--registry-only")
    before = counts()

    # The registry part alone; the portal's own repeat-run bound is in tests/home/test_demo.py.
    with django_assert_max_num_queries(15):
        output = seed("--units", "300", "--registry-only")

    assert counts() == before
    assert "未新增任何数据" in output


def test_growing_the_demo_adds_only_the_missing_rows():
    seed("--units", "300")
    first = set(
        Ownership.objects.values_list("owner__mobile", "owner__name", "unit__label", "unit__project__code")
    )
    unit_ids = set(Unit.objects.values_list("id", flat=True))

    seed("--units", "700")

    assert Unit.objects.count() == 700
    assert unit_ids < set(Unit.objects.values_list("id", flat=True))  # nothing recreated
    after = set(
        Ownership.objects.values_list("owner__mobile", "owner__name", "unit__label", "unit__project__code")
    )
    assert first < after  # the same people own the same units
    for model in (Unit, Owner, Ownership):
        assert model.history.count() == model.objects.count()


def test_plan_is_deterministic_and_a_prefix_of_larger_plans():
    small = build_plan(SMALL_UNITS)
    assert build_plan(SMALL_UNITS) == small
    part = build_plan(500)
    assert small.units[:500] == part.units
    assert small.owners[: len(part.owners)] == part.owners
    assert set(part.ownerships) <= set(small.ownerships)
    assert len({owner[0] for owner in small.owners}) == len(small.owners)
    id_numbers = [owner[2] for owner in small.owners if owner[2]]
    assert len(set(id_numbers)) == len(id_numbers)
