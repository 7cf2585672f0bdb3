"""The registry's models: invariants that need nothing but the row itself."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from estates.models import Building, HandoverStatus, Owner, Trade, Unit
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_unit_takes_its_project_and_label_from_its_building():
    project = f.ProjectFactory()
    building = f.BuildingFactory(project=project, code="3")
    unit = Unit.objects.create(building=building, project=f.ProjectFactory(), entrance="2", number="1502")
    unit.refresh_from_db()
    assert unit.project == project  # whatever the caller said
    assert unit.label == "3-2-1502"
    assert str(unit) == "3-2-1502"


def test_unit_label_without_an_entrance():
    unit = f.UnitFactory(building=f.BuildingFactory(code="8"), entrance="", number="101")
    assert unit.label == "8-101"
    assert Unit.make_label("8", "", "101") == "8-101"


def test_moving_a_unit_to_another_building_moves_project_and_label():
    unit = f.UnitFactory(building=f.BuildingFactory(code="3"), entrance="1", number="1502")
    other = f.BuildingFactory(code="7")
    unit.building = other
    unit.save()
    unit.refresh_from_db()
    assert (unit.project, unit.label) == (other.project, "7-1-1502")


def test_unit_defaults_to_pending_handover():
    assert f.UnitFactory().handover_status == HandoverStatus.PENDING


def test_building_code_unique_within_a_project_only():
    first = f.BuildingFactory(code="3")
    f.BuildingFactory(code="3")  # another project: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        Building.objects.create(project=first.project, code="3", name="又一个3号楼")


def test_unit_unique_within_a_building():
    unit = f.UnitFactory(entrance="1", number="1502")
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.create(building=unit.building, entrance="1", number="1502")
    Unit.objects.create(building=unit.building, entrance="2", number="1502")


def test_one_current_ownership_per_owner_and_unit():
    ownership = f.OwnershipFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        f.OwnershipFactory(owner=ownership.owner, unit=ownership.unit)
    ownership.end = datetime.date(2026, 1, 1)
    ownership.save()
    f.OwnershipFactory(owner=ownership.owner, unit=ownership.unit)  # ended + current: fine


def test_owner_str_and_masked_mobile():
    owner = f.OwnerFactory(name="张三丰", mobile="13900000001")
    assert str(owner) == "张三丰（139****0001）"
    assert owner.masked_mobile() == "139****0001"


def test_owner_unit_labels_are_current_units_only():
    owner = f.OwnerFactory()
    f.OwnershipFactory(owner=owner, unit=f.UnitFactory(building=f.BuildingFactory(code="3"), entrance="1", number="1502"))
    f.OwnershipFactory(owner=owner, unit=f.UnitFactory(building=f.BuildingFactory(code="5"), entrance="2", number="201"))
    f.OwnershipFactory(
        owner=owner,
        unit=f.UnitFactory(building=f.BuildingFactory(code="9"), entrance="1", number="101"),
        end=datetime.date(2025, 12, 31),
    )
    assert sorted(owner.unit_labels().split("、")) == ["3-1-1502", "5-2-201"]


def test_owner_created_at_local_is_shanghai_wall_clock():
    with time_machine.travel(datetime.datetime(2026, 11, 23, 20, 30, tzinfo=datetime.timezone.utc), tick=False):
        owner = f.OwnerFactory()
    assert owner.created_at_local() == datetime.datetime(2026, 11, 24, 4, 30)


def test_owner_mobile_is_validated_in_chinese():
    owner = Owner(name="赵敏", mobile="12345")
    with translation.override("zh-hans"), pytest.raises(ValidationError) as excinfo:
        owner.full_clean()
    assert "手机号“12345”无效" in excinfo.value.message_dict["mobile"][0]


def test_contractor_names_of_trades_and_projects():
    a = f.ProjectFactory(name="阳光花园", code="A01")
    b = f.ProjectFactory(name="湖畔雅苑", code="B01")
    contractor = f.ContractorFactory(projects=[a, b])
    contractor.trades.set(Trade.objects.all()[:2])
    assert contractor.project_names() == "阳光花园、湖畔雅苑"
    assert len(contractor.trade_names().split("、")) == 2


def test_contractor_mobile_is_validated():
    contractor = f.ContractorFactory.build(contact_mobile="10086")
    with pytest.raises(ValidationError) as excinfo:
        contractor.full_clean()
    assert "contact_mobile" in excinfo.value.message_dict


def test_plain_saves_write_history_without_a_user():
    unit = f.UnitFactory()
    unit.layout = "两室一厅"
    unit.save()
    assert [row.history_type for row in unit.history.all()] == ["~", "+"]
    assert all(row.history_user is None for row in unit.history.all())


def test_str_of_building_and_ownership():
    building = f.BuildingFactory(project=f.ProjectFactory(name="阳光花园", code="A01"), code="3", name="3号楼")
    ownership = f.OwnershipFactory(owner=f.OwnerFactory(name="张三丰"), unit=f.UnitFactory(building=building, entrance="1", number="1502"))
    assert str(building) == "阳光花园 3号楼"
    assert str(ownership) == "张三丰 · 3-1-1502"
    assert ownership.is_current()
