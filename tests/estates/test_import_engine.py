"""The import engine through its one-pass entry (jobs.import_file, as the command uses it):
units, owners with ownerships, contractors; idempotency, updates, atomicity, history."""

import datetime
import io
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import translation

from estates import scope
from estates.importing import bulk, jobs, reader
from estates.importing.engine import ImportRun
from estates.models import Contractor, ImportJob, Owner, Ownership, Trade, Unit
from estates.normalize import hash_id_number
from plugins.signals import estates_imported
from tests import factories

from .test_import_helpers import (  # noqa: F401 (fixtures)
    CONTRACTOR_HEADERS,
    OWNER_HEADERS,
    UNIT_HEADERS,
    csv_bytes,
    other_project,
    owner_row,
    owners_sheet,
    project,
    unit_row,
    units_sheet,
    valid_id_number,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def run(project, content, name="导入.xlsx", user=None, dry_run=False):
    return jobs.import_file(io.BytesIO(content), name, project, user=user, dry_run=dry_run)


def messages(report):
    return [e["message"] for e in report.errors]


# --- Units --------------------------------------------------------------------------------------


def test_units_are_created_with_project_label_and_history(project, admin_user):
    content = xlsx_bytes({"房号": units_sheet(unit_row(number="1501"), unit_row(building="2号楼", entrance="", number="201", status="已交付", date=datetime.datetime(2026, 3, 1)))})

    report, job = run(project, content, user=admin_user)

    assert report.ok, report.errors
    assert report.counts() == {"units": {"new": 2, "updated": 0, "unchanged": 0}}
    first = Unit.objects.get(label="1-1-1501")
    assert first.project == project and first.floor == 15 and first.area == Decimal("89.50")
    assert first.handover_status == "pending" and first.delivery_batch == "第一批"
    second = Unit.objects.get(label="2-201")
    assert second.handover_status == "handed_over" and second.handover_date == datetime.date(2026, 3, 1)
    history = first.history.get()
    assert history.history_type == "+"
    assert history.history_user == admin_user
    assert history.history_change_reason == f"Excel 导入 #{job.pk}"
    assert history.label == "1-1-1501" and history.project_id == project.id
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.user == admin_user


def test_records_made_after_an_import_get_fresh_ids(project):
    run(project, xlsx_bytes({"房号": units_sheet(unit_row(number="1501")), "业主": owners_sheet(owner_row(number="1501"))}))

    unit = factories.UnitFactory(building=project.buildings.get(code="1"), number="1601")
    link = factories.OwnershipFactory(unit=unit)

    assert Unit.objects.count() == 2 and Ownership.objects.count() == 2 and Owner.objects.count() == 2
    assert unit.history.count() == 1 and link.owner.history.count() == 1


def test_reimporting_the_same_file_changes_nothing(project):
    content = xlsx_bytes({"房号": units_sheet(unit_row(number="1501"), unit_row(number="1502"))})
    run(project, content)

    report, _job = run(project, content)

    assert report.counts() == {"units": {"new": 0, "updated": 0, "unchanged": 2}}
    assert Unit.objects.count() == 2
    assert Unit.history.count() == 2


def test_a_changed_cell_updates_the_unit_and_writes_history(project, admin_user):
    run(project, xlsx_bytes({"房号": units_sheet(unit_row(number="1501", area=89.5))}))

    report, job = run(project, xlsx_bytes({"房号": units_sheet(unit_row(number="1501", area=90))}), user=admin_user)

    assert report.counts()["units"] == {"new": 0, "updated": 1, "unchanged": 0}
    assert report.samples["units"][0]["changes"] == ["建筑面积：89.50 → 90.00"]
    unit = Unit.objects.get()
    assert unit.area == Decimal("90.00")
    latest = unit.history.first()
    assert latest.history_type == "~" and latest.area == Decimal("90.00")
    assert latest.history_user == admin_user and latest.history_change_reason == f"Excel 导入 #{job.pk}"


def test_blank_cells_keep_what_is_stored(project):
    run(project, xlsx_bytes({"房号": units_sheet(unit_row(number="1501", layout="三室两厅"))}))

    report, _job = run(project, xlsx_bytes({"房号": units_sheet(unit_row(number="1501", layout=None))}))

    assert report.counts()["units"]["unchanged"] == 1
    assert Unit.objects.get().layout == "三室两厅"


def test_cells_are_normalised(project):
    rows = [
        ["１号楼", "1单元", 15.0, "１５０１", "89.5㎡", " 三室两厅 ", "第一批", "已预约", "2026/3/1"],
        [" 1栋 ", 1, 15, 1502.0, 89.5, "三室两厅", "第一批", "scheduled", "2026年3月2日"],
        ["1", "1", "15", "1503室", "89.50", "三室两厅", "第一批", "待交付", datetime.datetime(2026, 3, 3, 0, 0)],
    ]
    report, _job = run(project, xlsx_bytes({"房号": units_sheet(*rows)}))

    assert report.ok, report.errors
    units = {u.label: u for u in Unit.objects.all()}
    assert sorted(units) == ["1-1-1501", "1-1-1502", "1-1-1503"]
    assert units["1-1-1501"].handover_date == datetime.date(2026, 3, 1)
    assert units["1-1-1502"].handover_date == datetime.date(2026, 3, 2)
    assert units["1-1-1503"].handover_date == datetime.date(2026, 3, 3)
    assert {u.area for u in units.values()} == {Decimal("89.50")}
    assert units["1-1-1501"].layout == "三室两厅"
    assert units["1-1-1501"].handover_status == "scheduled"


def test_unknown_building_is_a_row_error_and_nothing_is_written(project, other_project):
    content = xlsx_bytes({"房号": units_sheet(unit_row(number="1501"), unit_row(building="9号楼", number="901"))})

    report, job = run(project, content)

    assert job is None
    assert not report.ok
    error = report.errors[0]
    assert (error["sheet"], error["row"], error["column"]) == ("房号", 3, "楼栋")
    assert "楼栋“9号楼”在项目“西湖花园”中不存在" in error["message"]
    assert Unit.objects.count() == 0


def test_duplicate_unit_in_the_file(project):
    content = xlsx_bytes({"房号": units_sheet(unit_row(number="1501"), unit_row(building="1号楼", number="1501.0"))})

    report, _job = run(project, content)

    assert messages(report) == ["房号 1-1-1501 与第 2 行重复。"]
    assert Unit.objects.count() == 0


def test_missing_required_column_is_named(project):
    headers = [h for h in UNIT_HEADERS if h != "房号"]
    content = xlsx_bytes({"房号": [headers, ["1", "1", 15, 89.5, "三室", "第一批", "待交付", None]]})

    report, _job = run(project, content)

    assert messages(report) == ["缺少必填列：房号。"]


def test_empty_required_cell(project):
    report, _job = run(project, xlsx_bytes({"房号": units_sheet(unit_row(number=None))}))

    assert messages(report) == ["缺少必填项：房号。"]


@pytest.mark.parametrize(
    "sheets, message",
    [
        ({"房号": []}, "文件中没有可导入的数据行。"),
        ({"房号": [UNIT_HEADERS]}, "文件中没有可导入的数据行。"),
        ({"Sheet1": [UNIT_HEADERS, unit_row()]}, "找不到可导入的工作表：工作表须命名为“房号”“业主”或“施工单位”。"),
    ],
)
def test_empty_sheet_or_file(project, sheets, message):
    report, _job = run(project, xlsx_bytes(sheets))

    assert messages(report) == [message]


def test_bad_values_are_reported_with_sheet_row_and_column(project):
    rows = [
        unit_row(number="1501", area="八十九"),
        unit_row(number="1502", status="已入住"),
        unit_row(number="1503", date="2026-13-01"),
        unit_row(number="1504", floor="十五"),
    ]
    report, _job = run(project, xlsx_bytes({"房号": units_sheet(*rows)}))

    assert [(e["row"], e["column"]) for e in report.errors] == [(2, "建筑面积"), (3, "交付状态"), (4, "交付日期"), (5, "楼层")]
    assert "交付状态“已入住”无效，可填：待交付、已预约、已交付、拒收。" in messages(report)
    assert Unit.objects.count() == 0


def test_the_template_example_row_is_skipped(project):
    example = ["3号楼", "2", 15, "1502", 89.5, "三室两厅一卫", "2026年第一批", "待交付", datetime.datetime(2026, 3, 1)]
    content = xlsx_bytes({"房号": units_sheet(example, unit_row(number="1501"))})

    report, _job = run(project, content)

    assert report.ok, report.errors
    assert report.counts()["units"]["new"] == 1
    assert any("模板示例" in w for w in report.warnings)


# --- Owners and ownerships ----------------------------------------------------------------------


def test_owners_with_ownerships_and_only_the_id_hash_is_kept(project, admin_user):
    unit = factories.UnitFactory(building=project.buildings.get(code="1"), entrance="1", number="1501")
    id_number = valid_id_number(1)
    content = xlsx_bytes({"业主": owners_sheet(owner_row(id_number=id_number, email="a@example.com"))})

    report, job = run(project, content, user=admin_user)

    assert report.ok, report.errors
    owner = Owner.objects.get()
    assert owner.id_hash == hash_id_number(id_number) and owner.id_last4 == id_number[-4:]
    assert owner.mobile == "13800138000" and owner.email == "a@example.com"
    link = Ownership.objects.get()
    assert (link.owner, link.unit, link.is_primary, link.start, link.end) == (owner, unit, True, datetime.date(2026, 3, 1), None)
    for history in (owner.history.get(), link.history.get()):
        assert history.history_user == admin_user
        assert history.history_change_reason == f"Excel 导入 #{job.pk}"
    stored = " ".join(str(v) for v in Owner.objects.values_list().get()) + " ".join(
        str(v) for v in Owner.history.values_list().get()
    )
    assert id_number not in stored
    assert id_number not in str(ImportJob.objects.get(pk=job.pk).summary)


def test_owner_rows_may_point_at_units_of_the_same_workbook(project):
    content = xlsx_bytes(
        {
            "房号": units_sheet(unit_row(number="1501"), unit_row(number="1502")),
            "业主": owners_sheet(owner_row(number="1501"), owner_row(number="1502")),
        }
    )

    report, _job = run(project, content)

    assert report.ok, report.errors
    assert report.counts() == {
        "units": {"new": 2, "updated": 0, "unchanged": 0},
        "owners": {"new": 2, "updated": 0, "unchanged": 0},
    }
    assert report.records["owners"]["new"] == 1  # one person owning two units
    assert report.records["ownerships"]["new"] == 2
    owner = Owner.objects.get()
    assert sorted(o.unit.label for o in owner.ownerships.all()) == ["1-1-1501", "1-1-1502"]

    again, _job = run(project, content)
    assert again.counts()["owners"] == {"new": 0, "updated": 0, "unchanged": 2}
    assert Owner.objects.count() == 1 and Ownership.objects.count() == 2


def test_owner_found_by_id_gets_a_new_mobile(project):
    factories.UnitFactory(building=project.buildings.get(code="1"), entrance="1", number="1501")
    id_number = valid_id_number(7)
    run(project, xlsx_bytes({"业主": owners_sheet(owner_row(id_number=id_number))}))

    report, _job = run(project, xlsx_bytes({"业主": owners_sheet(owner_row(id_number=id_number.lower(), mobile="+86 139-0000-0001"))}))

    assert report.counts()["owners"] == {"new": 0, "updated": 1, "unchanged": 0}
    owner = Owner.objects.get()
    assert owner.mobile == "13900000001"
    assert owner.history.count() == 2


def test_a_changed_ownership_is_updated(project, admin_user):
    factories.UnitFactory(building=project.buildings.get(code="1"), entrance="1", number="1501")
    run(project, xlsx_bytes({"业主": owners_sheet(owner_row())}))

    report, job = run(project, xlsx_bytes({"业主": owners_sheet(owner_row(primary="否", start="2026-04-01"))}), user=admin_user)

    assert report.counts()["owners"] == {"new": 0, "updated": 1, "unchanged": 0}
    assert report.records["ownerships"]["updated"] == 1 and report.records["owners"]["unchanged"] == 1
    link = Ownership.objects.get()
    assert (link.is_primary, link.start) == (False, datetime.date(2026, 4, 1))
    latest = link.history.first()
    assert (latest.history_type, latest.history_user, latest.history_change_reason) == ("~", admin_user, f"Excel 导入 #{job.pk}")


def test_owner_imported_without_id_gets_it_later(project):
    factories.UnitFactory(building=project.buildings.get(code="1"), entrance="1", number="1501")
    run(project, xlsx_bytes({"业主": owners_sheet(owner_row())}))
    id_number = valid_id_number(8)

    report, _job = run(project, xlsx_bytes({"业主": owners_sheet(owner_row(id_number=id_number))}))

    assert report.records["owners"] == {"new": 0, "updated": 1, "unchanged": 0}
    owner = Owner.objects.get()
    assert owner.id_hash == hash_id_number(id_number)
    assert Ownership.objects.count() == 1


@pytest.mark.parametrize(
    "cells, column, message",
    [
        ({"mobile": "1380013800"}, "手机号", "手机号“1380013800”无效"),
        ({"id_number": "110101199003071234"}, "身份证号", "校验位不对"),
        ({"id_number": 1.10101199003071e17}, "身份证号", "科学计数法"),
        ({"id_number": "1.10101199003071E+17"}, "身份证号", "科学计数法"),
        ({"email": "not-an-email"}, "电子邮箱", "不是有效的邮箱地址"),
        ({"primary": "也许"}, "主业主", "只能填“是”或“否”"),
    ],
)
def test_bad_owner_cells(project, cells, column, message):
    factories.UnitFactory(building=project.buildings.get(code="1"), entrance="1", number="1501")

    report, _job = run(project, xlsx_bytes({"业主": owners_sheet(owner_row(**cells))}))

    assert [(e["row"], e["column"]) for e in report.errors] == [(2, column)]
    assert message in report.errors[0]["message"]
    assert Owner.objects.count() == 0


def test_wrong_id_numbers_are_not_echoed_in_full(project):
    factories.UnitFactory(building=project.buildings.get(code="1"), entrance="1", number="1501")

    report, _job = run(project, xlsx_bytes({"业主": owners_sheet(owner_row(id_number="110101199003071234"))}))

    assert "110101199003071234" not in report.errors[0]["message"]
    assert "1234" in report.errors[0]["message"]


def test_owner_of_an_unknown_unit(project):
    report, _job = run(project, xlsx_bytes({"业主": owners_sheet(owner_row(number="9901"))}))

    assert messages(report) == ["房号 1-1-9901 不存在：请先建好该房号，或在同一文件的“房号”工作表中导入。"]


def test_same_id_with_two_names_is_an_error(project):
    for number in ("1501", "1502"):
        factories.UnitFactory(building=project.buildings.get(code="1"), entrance="1", number=number)
    id_number = valid_id_number(3)
    rows = [owner_row(number="1501", id_number=id_number), owner_row(number="1502", id_number=id_number, name="李四")]

    report, _job = run(project, xlsx_bytes({"业主": owners_sheet(*rows)}))

    assert [(e["row"], e["column"]) for e in report.errors] == [(3, "业主姓名")]
    assert report.errors[0]["message"] == "与第 2 行是同一业主，但业主姓名不同：“张三”与“李四”。"
    assert Owner.objects.count() == 0


def test_one_person_with_and_without_id_on_two_units_is_one_owner(project):
    for number in ("1501", "1502"):
        factories.UnitFactory(building=project.buildings.get(code="1"), entrance="1", number=number)
    rows = [owner_row(number="1501"), owner_row(number="1502", id_number=valid_id_number(4))]

    report, _job = run(project, xlsx_bytes({"业主": owners_sheet(*rows)}))

    assert report.ok, report.errors
    owner = Owner.objects.get()
    assert owner.ownerships.count() == 2 and owner.id_last4 == valid_id_number(4)[-4:]


def test_two_owners_of_one_unit(project):
    unit = factories.UnitFactory(building=project.buildings.get(code="1"), entrance="1", number="1501")
    rows = [owner_row(), owner_row(name="李四", mobile="13900000002", primary="否")]

    report, _job = run(project, xlsx_bytes({"业主": owners_sheet(*rows)}))

    assert report.ok, report.errors
    assert sorted(unit.ownerships.values_list("owner__name", "is_primary")) == [("张三", True), ("李四", False)]


def test_owners_csv_in_gb18030_is_recognised_by_its_headers(project):
    factories.UnitFactory(building=project.buildings.get(code="1"), entrance="1", number="1501")
    content = csv_bytes([OWNER_HEADERS, ["1", "1", "1501", "王五", "13800138000.0", "", "否", "2026-3-1", ""]], encoding="gb18030")

    report, job = run(project, content, name="业主.csv")

    assert report.ok, report.errors
    link = Ownership.objects.get()
    assert link.owner.name == "王五" and link.is_primary is False
    assert link.history.get().history_change_reason == f"CSV 导入 #{job.pk}"


# --- Contractors --------------------------------------------------------------------------------


def test_contractors_with_trades_and_projects(project, other_project, admin_user):
    rows = [
        CONTRACTOR_HEADERS,
        ["杭州安居建设工程有限公司", "水电、防水", "王师傅", "13900000001", "50,000元", ""],
        ["宁波防水有限公司", "防水", "", "", "", "SH01"],
    ]

    report, job = run(project, xlsx_bytes({"施工单位": rows}), user=admin_user)

    assert report.ok, report.errors
    first = Contractor.objects.get(name="杭州安居建设工程有限公司")
    assert sorted(t.name for t in first.trades.all()) == ["水电", "防水"]
    assert list(first.projects.all()) == [project]
    assert first.warranty_deposit == Decimal("50000.00")
    second = Contractor.objects.get(name="宁波防水有限公司")
    assert set(second.projects.all()) == {project, other_project}
    history = first.history.get()
    assert history.history_user == admin_user and history.history_change_reason == f"Excel 导入 #{job.pk}"
    assert sorted(t.trade.name for t in history.trades.all()) == ["水电", "防水"]
    assert [p.project for p in history.projects.all()] == [project]

    again, _job = run(project, xlsx_bytes({"施工单位": rows}))
    assert again.counts()["contractors"] == {"new": 0, "updated": 0, "unchanged": 2}


def test_contractor_trades_are_added_never_removed(project):
    contractor = factories.ContractorFactory(name="老牌施工队", projects=[project])
    contractor.trades.set([Trade.objects.get(name="土建")])

    report, _job = run(project, xlsx_bytes({"施工单位": [CONTRACTOR_HEADERS, ["老牌施工队", "电梯", "", "", "", ""]]}))

    assert report.counts()["contractors"]["updated"] == 1
    assert "工种：新增 电梯" in report.samples["contractors"][0]["changes"]
    assert sorted(t.name for t in contractor.trades.all()) == ["土建", "电梯"]
    latest = contractor.history.first()
    assert latest.history_type == "~"
    assert sorted(t.trade.name for t in latest.trades.all()) == ["土建", "电梯"]


def test_contractor_errors(project, other_project):
    rows = [
        CONTRACTOR_HEADERS,
        ["甲公司", "水电", "", "", "", ""],
        ["乙公司", "挖掘机", "", "", "", ""],
        ["丙公司", "", "", "", "", "不存在的项目"],
        ["丁公司", "", "", "", "", "SH01"],
        ["甲公司", "", "", "", "", ""],
    ]
    user = factories.UserFactory()
    factories.StaffProfileFactory(user=user, projects=[project])

    run = ImportRun(project, user=user, allowed_projects=scope.projects_for(user))
    with reader.open_tables(io.BytesIO(xlsx_bytes({"施工单位": rows})), reader.XLSX) as tables:
        run.read(tables)
    report = run.preview()

    assert [(e["row"], e["column"]) for e in report.errors] == [(3, "工种"), (4, "服务项目"), (5, "服务项目"), (6, None)]
    assert report.errors[0]["message"].startswith("工种“挖掘机”不存在，可填：")
    assert report.errors[1]["message"] == "项目“不存在的项目”不存在或不在您的服务范围内。"
    assert report.errors[2]["message"] == "项目“SH01”不存在或不在您的服务范围内。"  # outside the user's scope
    assert report.errors[3]["message"] == "单位名称“甲公司”与第 2 行重复。"


# --- All or nothing -----------------------------------------------------------------------------


def test_one_bad_row_blocks_every_sheet(project):
    content = xlsx_bytes(
        {
            "房号": units_sheet(unit_row(number="1501")),
            "业主": owners_sheet(owner_row(number="1501"), owner_row(number="1501", name="李四", mobile="12345")),
            "施工单位": [CONTRACTOR_HEADERS, ["甲公司", "", "", "", "", ""]],
        }
    )

    report, job = run(project, content)

    assert job is None and report.error_count == 1
    assert (Unit.objects.count(), Owner.objects.count(), Ownership.objects.count(), Contractor.objects.count()) == (0, 0, 0, 0)


def test_a_failure_while_writing_rolls_everything_back(project):
    content = xlsx_bytes({"房号": units_sheet(unit_row(number="1501")), "业主": owners_sheet(owner_row(number="1501"))})
    real_create = bulk.create

    def failing_create(model, rows):
        if model is Ownership:
            raise RuntimeError("disk full")
        return real_create(model, rows)

    with mock.patch.object(bulk, "create", failing_create), pytest.raises(RuntimeError):
        run(project, content)

    assert (Unit.objects.count(), Owner.objects.count(), Unit.history.count()) == (0, 0, 0)
    assert ImportJob.objects.get().status == ImportJob.Status.FAILED


def test_dry_run_writes_nothing(project):
    report, job = run(project, xlsx_bytes({"房号": units_sheet(unit_row())}), dry_run=True)

    assert report.counts()["units"]["new"] == 1
    assert job is None and Unit.objects.count() == 0 and ImportJob.objects.count() == 0


def test_signal_after_commit(project, admin_user, django_capture_on_commit_callbacks):
    received = []

    def receiver(**kwargs):
        received.append(kwargs)

    estates_imported.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _report, job = run(project, xlsx_bytes({"房号": units_sheet(unit_row())}), user=admin_user)
    finally:
        estates_imported.disconnect(receiver)

    assert len(received) == 1
    assert received[0]["job"] == job and received[0]["user"] == admin_user
    assert received[0]["counts"] == {"units": {"new": 1, "updated": 0, "unchanged": 0}}
    assert received[0]["sender"] is ImportJob
