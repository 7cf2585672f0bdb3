"""Import of historic cases from .xlsx (plugins/cases/importing, import_views, import_cases):
a good file, dry runs, all-or-nothing writes, every row's errors with row and column, numbers
and their counters, the user's project scope, cells as Excel writes them, the export → import
round trip, the admin pages and the command."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

from unittest import mock

import pytest
import time_machine
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from plugins.cases import services
from plugins.cases.importing import run as case_import
from plugins.cases.importing.numbers import NumberFormat, Parsed
from estates.importing.cells import CellError
from plugins.cases.importing.schema import moment
from plugins.cases.models import Case, CaseClock, CaseCounter, CaseEvent, Status
from plugins.cases.search import matching
from tests.conftest import staff_with_perms
from tests.estates.test_import_background import REFRESH, run_worker
from tests.estates.test_import_helpers import upload, xlsx_bytes
from tests.factories import BuildingFactory, ContractorFactory, DepartmentFactory, UnitFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
IMPORT_URL = "/admin/cases/import/"
LIST_URL = "/admin/snippets/cases/case/"
HEADERS = [
    "工单号", "类型", "来源渠道", "分类", "紧急程度", "投诉等级", "状态", "项目", "楼栋", "房号", "报事人",
    "联系电话", "问题描述", "责任部门", "施工单位", "处理人", "登记时间", "派单时间", "完工时间", "关闭时间",
    "处理结果", "回访评分",
]
DEFAULTS = {
    "工单号": None, "类型": "报修", "来源渠道": "客服热线", "分类": "日常维修 / 给排水", "紧急程度": None,
    "投诉等级": None, "状态": "已关闭", "项目": "HZ01", "楼栋": None, "房号": None, "报事人": "王女士",
    "联系电话": "13800138000", "问题描述": "卫生间天花板漏水", "责任部门": None, "施工单位": None, "处理人": None,
    "登记时间": dt.datetime(2023, 1, 5, 9, 30), "派单时间": dt.datetime(2023, 1, 5, 10, 0),
    "完工时间": dt.datetime(2023, 1, 6, 15, 0), "关闭时间": dt.datetime(2023, 1, 9, 10, 0),
    "处理结果": None, "回访评分": None,
}


def row(**cells):
    values = {**DEFAULTS, **cells}
    return [values[header] for header in HEADERS]


def workbook(*rows, headers=HEADERS, title="工单"):
    return xlsx_bytes({title: [headers, *rows]})


def run_import(content, user=None, dry_run=False, name="历史工单.xlsx"):
    return case_import.import_cases(io.BytesIO(content), name, user=user, dry_run=dry_run)


def errors(run):
    return [(e["row"], e["column"], e["message"]) for e in run.report.as_dict()["errors"]]


def nothing_written():
    return not Case.objects.exists() and not CaseEvent.objects.exists() and not CaseCounter.objects.exists()


@pytest.fixture
def manager(project):
    return staff_with_perms("cases.add_case", "cases.view_case", projects=[project], username="manager")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


# --- A good file ---------------------------------------------------------------------------------


def test_a_good_file_imports_every_row_as_history(manager, project, unit):
    department = DepartmentFactory(code="ENG", name="工程部")
    contractor = ContractorFactory(name="钱塘建设有限公司")
    content = workbook(
        row(工单号="BX20230105-0003", 房号=unit.label, 责任部门="工程部", 施工单位="钱塘建设有限公司",
            处理人="李工", 处理结果="更换防水层", 回访评分=5),
        row(类型="投诉", 分类="服务态度", 投诉等级="重要投诉", 状态="处理中", 楼栋="3号楼",
            登记时间="2023/2/10 14:05", 派单时间=None, 完工时间=None, 关闭时间=None, 问题描述="客服态度差"),
        row(类型="咨询", 分类="enquiry-fees", 来源渠道="来访", 状态="已取消", 项目="钱塘雅苑", 问题描述="物业费怎么交",
            登记时间="2023年2月10日 8时00分", 派单时间=None, 完工时间=None, 关闭时间="2023-02-10 09:00"),
    )

    run = run_import(content, user=manager)

    assert run.report.ok, errors(run)
    assert run.written == 3
    repair, complaint, enquiry = (Case.objects.get(kind=kind) for kind in ("repair", "complaint", "enquiry"))
    assert repair.number == "BX20230105-0003"  # kept as given
    assert (repair.unit, repair.building, repair.project) == (unit, unit.building, project)  # building from the unit
    assert (repair.department, repair.contractor, repair.status) == (department, contractor, Status.CLOSED)
    assert repair.registered_at == dt.datetime(2023, 1, 5, 9, 30, tzinfo=SH)
    assert repair.closed_at == dt.datetime(2023, 1, 9, 10, 0, tzinfo=SH)
    assert repair.priority == "normal" and repair.channel == "hotline" and repair.category.code == "daily-plumbing"
    assert complaint.number == "TS20230210-0001"  # numbered by kind and registration day
    assert (complaint.complaint_grade, complaint.status) == ("serious", "in_progress")
    assert complaint.building == unit.building and complaint.unit is None
    assert complaint.registered_at == dt.datetime(2023, 2, 10, 14, 5, tzinfo=SH)
    assert complaint.category.name == "服务态度" and complaint.closed_at is None
    assert enquiry.number == "ZX20230210-0001" and enquiry.channel == "walk_in" and enquiry.status == "cancelled"
    assert enquiry.registered_at == dt.datetime(2023, 2, 10, 8, 0, tzinfo=SH)
    assert "漏水" in repair.search_words.split()
    assert list(matching(Case.objects.all(), "漏水")) == [repair]  # the search index took the bulk insert

    # One "import" event and one history row per case, naming the importer and the file.
    for case in (repair, complaint, enquiry):
        event = case.events.get()
        assert (event.verb, event.actor_user, event.to_status) == ("import", manager, case.status)
        assert "历史工单.xlsx" in event.text
        history = case.history.get()
        assert history.history_user == manager and history.history_change_reason == "导入历史工单：历史工单.xlsx"
    event = repair.events.get()
    assert event.data == {"file": "历史工单.xlsx", "row": 2, "result": "更换防水层", "score": 5, "assignee": "李工"}
    assert "处理结果：更换防水层" in event.text and "回访评分：5 分" in event.text
    # History is history: no SLA clock starts, not even for the open complaint.
    assert not CaseClock.objects.exists()
    # The dashboard's cohorts of January and February 2023 are marked for the next sweep.
    from plugins.cases.models import RollupMark

    assert set(RollupMark.objects.values_list("project_id", "month")) == {
        (project.pk, dt.date(2023, 1, 1)), (project.pk, dt.date(2023, 2, 1))}


def test_the_dry_run_checks_everything_and_writes_nothing(manager, project, unit):
    run = run_import(workbook(row(工单号="BX20230105-0003"), row()), user=manager, dry_run=True)

    assert run.report.ok and run.written == 0
    assert run.report.as_dict()["sheets"][0]["rows"] == 2
    assert nothing_written()


def test_one_bad_row_writes_nothing_and_says_row_and_column(manager, project):
    content = workbook(row(), row(联系电话="1380013"), row())

    run = run_import(content, user=manager)

    assert nothing_written()
    assert run.written == 0
    assert errors(run) == [(3, "联系电话", "手机号“1380013”无效：应为 11 位中国大陆手机号，如 13800138000。")]


def test_a_dry_run_reports_every_rows_errors(manager, project):
    content = workbook(
        row(类型="维修"),
        row(投诉等级="一般投诉"),
        row(状态="已关闭", 关闭时间=None),
        row(状态="处理中"),
        row(派单时间=dt.datetime(2023, 1, 4, 9, 0)),
        row(登记时间=dt.datetime(2099, 1, 1), 派单时间=None, 完工时间=None, 关闭时间=None, 状态="已登记"),
        row(问题描述=None, 报事人=None),
    )

    run = run_import(content, user=manager, dry_run=True)

    found = {(r, column): message for r, column, message in errors(run)}
    assert found[(2, "类型")].startswith("类型“维修”无效，可填：报修、投诉、咨询")
    assert found[(3, "投诉等级")] == "只有投诉工单可以填写投诉等级。"
    assert found[(4, "关闭时间")] == "状态为“已关闭”的工单须填写关闭时间。"
    assert found[(5, "关闭时间")] == "状态为“处理中”的工单不能有关闭时间。"
    assert found[(6, "派单时间")] == "派单时间（2023-01-04 09:00）早于登记时间（2023-01-05 09:30）。"
    assert "晚于现在" in found[(7, "登记时间")]
    assert found[(8, None)] == "缺少必填项：报事人、问题描述。"
    assert nothing_written()


# --- Numbers -------------------------------------------------------------------------------------


def test_numbers_repeated_in_the_file_or_taken_are_refused(manager, project, new_case):
    taken = new_case().number
    content = workbook(row(工单号="BX20230105-0003"), row(工单号="BX20230105-0003"), row(工单号=taken),
                       row(工单号="TS20230105-0001"))

    run = run_import(content, user=manager)

    assert errors(run) == [
        (3, "工单号", "工单号“BX20230105-0003”与第 2 行重复。"),
        (4, "工单号", f"工单号“{taken}”已存在。"),
        (5, "工单号", "工单号“TS20230105-0001”是投诉的编号格式，与类型“报修”不符。"),
    ]
    assert Case.objects.count() == 1


def test_numbers_are_read_in_the_configured_format(settings):
    settings.PLUGIN_SETTINGS = {"cases": {"NUMBER_FORMAT": "{prefix}-{date:%y%m%d}-{seq:05d}"}}
    formats = NumberFormat()

    assert formats.parse("TS-230105-00042") == [Parsed("complaint", dt.date(2023, 1, 5), 42)]
    assert formats.format("complaint", dt.date(2023, 1, 5), 43) == "TS-230105-00043"
    assert formats.parse("TS20230105-0042") == [] and formats.parse("TS-231305-00001") == []  # not a day

    settings.PLUGIN_SETTINGS = {"cases": {"NUMBER_FORMAT": "{prefix}{date:%Y%j}-{seq}"}}  # day of the year
    assert NumberFormat().parse("TS2023005-1") == []  # a directive it cannot read: no counter raised


def test_counters_are_raised_so_later_registrations_get_the_next_free_number(manager, project, agent):
    CaseCounter.objects.create(kind="complaint", day=dt.date(2023, 1, 5), last=9)
    content = workbook(
        row(工单号="BX20230105-0003"),
        row(工单号="BX20230105-0001"),
        row(),  # no number: the next after the file's highest of that day
        row(类型="投诉", 分类=None, 登记时间=dt.datetime(2023, 1, 5, 20, 0), 派单时间=None, 完工时间=None,
            关闭时间=dt.datetime(2023, 1, 6, 9, 0), 工单号="TS20230105-0004"),
        row(工单号="WX-2019-88"),  # another system's number: kept, raises nothing
    )

    run = run_import(content, user=manager)

    assert run.written == 5, errors(run)
    assert Case.objects.filter(number="BX20230105-0004", kind="repair").exists()
    assert Case.objects.filter(number="WX-2019-88").exists()
    counters = dict(((c.kind, c.day), c.last) for c in CaseCounter.objects.all())
    assert counters == {("repair", dt.date(2023, 1, 5)): 4, ("complaint", dt.date(2023, 1, 5)): 9}  # never lowered
    later = services.register(
        agent, kind="repair", channel="hotline", project=project, reporter_name="张先生",
        reporter_mobile="13900000001", description="厨房下水堵塞", when=dt.datetime(2023, 1, 5, 18, 0, tzinfo=SH),
    )
    assert later.number == "BX20230105-0005"


# --- Names looked up in the database ---------------------------------------------------------------


def test_unknown_project_building_unit_category_department_contractor(manager, project, unit):
    content = workbook(
        row(项目="XX99", 施工单位="某某公司"),  # every problem of a row, not just the first
        row(楼栋="9号楼"),
        row(房号="3-9-9999"),
        row(分类="不存在的分类"),
        row(分类="投诉 / 服务态度"),
        row(责任部门="保安部"),
        row(施工单位="某某公司"),
    )

    run = run_import(content, user=manager)

    assert errors(run) == [
        (2, "项目", "项目“XX99”不存在，请填写项目编码或名称。"),
        (2, "施工单位", "施工单位“某某公司”不存在，请先在“施工单位”中建好。"),
        (3, "楼栋", "楼栋“9号楼”在项目“钱塘雅苑”中不存在，请先在“楼栋”中建好。"),
        (4, "房号", "项目“钱塘雅苑”中没有房号“3-9-9999”。"),
        (5, "分类", "分类“不存在的分类”不存在，请填写分类名称、“上级 / 名称”或编码。"),
        (6, "分类", "分类“投诉 / 服务态度”属于“投诉”，与类型“报修”不符。"),
        (7, "责任部门", "责任部门“保安部”不存在，请先在“部门”中建好。"),
        (8, "施工单位", "施工单位“某某公司”不存在，请先在“施工单位”中建好。"),
    ]
    assert nothing_written()


def test_a_unit_of_another_project_or_building_is_refused(manager, project, other_project, unit):
    elsewhere = UnitFactory(building=BuildingFactory(project=other_project, code="8"), entrance="1", number="801")
    BuildingFactory(project=project, code="5", name="5号楼")

    run = run_import(workbook(row(房号=elsewhere.label), row(楼栋="5号楼", 房号=unit.label)), user=manager)

    assert errors(run) == [
        (2, "房号", f"项目“钱塘雅苑”中没有房号“{elsewhere.label}”。"),
        (3, "房号", f"房号“{unit.label}”不在楼栋“5号楼”中。"),
    ]


def test_a_unit_within_the_given_building(manager, project, unit):
    run = run_import(workbook(row(楼栋="3", 房号=f"{unit.entrance}-{unit.number}")), user=manager)

    assert run.written == 1, errors(run)
    assert Case.objects.get().unit == unit


def test_a_project_outside_the_users_scope_is_refused(manager, project, other_project):
    run = run_import(workbook(row(), row(项目="SH02")), user=manager)

    assert errors(run) == [(3, "项目", "您不负责项目“浦江云庭”，不能导入该项目的工单。")]
    assert nothing_written()
    # Someone serving every project (or the command without --user) may.
    everywhere = staff_with_perms("cases.add_case", all_projects=True)
    assert run_import(workbook(row(), row(项目="SH02")), user=everywhere).written == 2


# --- Cells as Excel writes them --------------------------------------------------------------------


def test_an_excel_float_mobile_and_number_cells(manager, project):
    run = run_import(workbook(row(联系电话=13800138000.0, 回访评分=4.0)), user=manager)

    assert run.written == 1, errors(run)
    case = Case.objects.get()
    assert case.reporter_mobile == "13800138000" and case.events.get().data["score"] == 4


def test_formula_and_garbage_cells_are_errors_not_crashes(manager, project):
    book = Workbook()
    sheet = book.active
    sheet.title = "工单"
    sheet.append(HEADERS)
    sheet.append(row(登记时间="=NOW()"))  # a formula without a cached value reads as empty
    sheet.append(row(联系电话="#N/A"))
    sheet.append(row(派单时间="下周一"))
    sheet.append(row(回访评分="很满意"))
    sheet.append(row(问题描述="x" * 2001))
    buffer = io.BytesIO()
    book.save(buffer)

    run = run_import(buffer.getvalue(), user=manager)

    assert errors(run) == [
        (2, None, "缺少必填项：登记时间。"),
        (3, "联系电话", "联系电话是 Excel 的错误值“#N/A”（公式出错），请改为实际内容。"),
        (4, "派单时间", "派单时间“下周一”不是有效的日期时间，请写成 2023-01-05 09:30。"),
        (5, "回访评分", "回访评分“很满意”不是整数。"),
        (6, "问题描述", "问题描述“xxxxxxxxxxxxxxxxxxxx…”太长：最多 2000 个字。"),
    ]
    assert nothing_written()


@pytest.mark.parametrize(
    "cell, expected",
    [
        (dt.datetime(2023, 1, 5, 9, 30), dt.datetime(2023, 1, 5, 9, 30)),
        (44931.395833333336, dt.datetime(2023, 1, 5, 9, 30)),  # an Excel serial left unformatted
        (dt.date(2023, 1, 5), dt.datetime(2023, 1, 5, 0, 0)),
        ("2023/1/5 9:30", dt.datetime(2023, 1, 5, 9, 30)),
        ("2023-01-05 09:30:15", dt.datetime(2023, 1, 5, 9, 30, 15)),
        ("2023年1月5日 9时30分", dt.datetime(2023, 1, 5, 9, 30)),
        ("２０２３－０１－０５　０９：３０", dt.datetime(2023, 1, 5, 9, 30)),  # full-width
        ("2023-01-05T01:30:00+00:00", dt.datetime(2023, 1, 5, 9, 30)),  # an offset: converted
        ("2023.1.5", dt.datetime(2023, 1, 5, 0, 0)),
        (None, None),
    ],
)
def test_dates_and_times_are_read_in_shanghai(cell, expected):
    assert moment(cell, "登记时间") == (expected and expected.replace(tzinfo=SH))


@pytest.mark.parametrize("cell", ["下周一", "9:30", dt.time(9, 30), "2023-02-30 10:00", "9999-12-31T23:59:59+00:00", True])
def test_what_is_not_a_date_and_time_is_an_error(cell):
    with pytest.raises(CellError, match="登记时间“.*”不是有效的日期时间，请写成 2023-01-05 09:30。"):
        moment(cell, "登记时间")


def test_an_empty_file_or_sheet_imports_nothing_and_says_so(manager, project):
    assert errors(run_import(workbook(), user=manager)) == [(None, None, "文件中没有可导入的数据行。")]
    assert errors(run_import(xlsx_bytes({"工单": []}), user=manager)) == [(None, None, "文件中没有可导入的数据行。")]
    missing = run_import(workbook(["王女士"], headers=["报事人"]), user=manager)
    assert errors(missing)[0][2].startswith("缺少必填列：类型、状态、项目、联系电话、问题描述、登记时间")


def test_the_case_lists_sheet1_and_unknown_columns(manager, project):
    content = xlsx_bytes({"说明": [["请看第二个工作表"]], "Sheet1": [[*HEADERS, "备注"], [*row(), "旧系统备注"]]})

    run = run_import(content, user=manager)

    assert run.written == 1, errors(run)
    assert run.report.warnings == ["工作表“Sheet1”中的列 “备注” 无法识别，已忽略。"]


def test_an_imported_open_case_carries_on_through_the_verbs(manager, agent, project):
    run_import(workbook(row(类型="投诉", 分类=None, 状态="已受理", 派单时间=None, 完工时间=None, 关闭时间=None)),
               user=manager)
    case = Case.objects.get()

    services.close(case, agent, "已答复业主")

    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.closed_at is not None
    assert [e.verb for e in case.events.order_by("pk")] == ["import", "close"]


def test_the_import_reads_the_database_in_bulk(manager, project, unit, django_assert_max_num_queries):
    def rows(n):
        return [row(工单号=f"BX20230105-{i + 1:04d}", 房号=unit.label, 联系电话=f"139{i:08d}") for i in range(n)]

    with django_assert_max_num_queries(40) as small:
        assert run_import(workbook(*rows(3)), user=manager).written == 3
    Case.objects.all().delete()
    CaseCounter.objects.all().delete()
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert run_import(workbook(*rows(300)), user=manager).written == 300


def test_a_long_file_name_fits_the_history_reason():
    reason = case_import.change_reason("二〇二三年历史工单" * 20 + ".xlsx")

    assert len(reason) == 100 and reason.startswith("导入历史工单：…") and reason.endswith("工单.xlsx")


# --- Export → import -------------------------------------------------------------------------------


EXPORTED = ("number", "kind", "channel", "category_id", "priority", "status", "project_id", "building_id", "unit_id",
            "reporter_name", "reporter_mobile", "description", "department_id", "contractor_id",
            "registered_at", "dispatched_at", "completed_at", "closed_at")


def test_an_export_imports_into_a_fresh_install(admin_client, agent, new_case, project, unit):
    department = DepartmentFactory(code="ENG", name="工程部")
    contractor = ContractorFactory(name="钱塘建设有限公司", projects=[project])
    with time_machine.travel(dt.datetime(2026, 3, 10, 10, 0, tzinfo=SH), tick=False) as traveller:
        new_case()
        dispatched = new_case(kind="complaint", description="物业费收费不合理")
        services.accept(dispatched, agent)
        services.dispatch(dispatched, agent, department=department)
        done = new_case(description="厨房水龙头滴水")
        services.dispatch(done, agent, contractor=contractor)
        traveller.shift(dt.timedelta(hours=5))
        services.start(done, agent)
        services.complete(done, agent, "更换阀芯")
        services.sign_off(done, agent, accepted=True)
        services.callback(done, agent, reached=True, score=5)
        services.cancel(new_case(kind="enquiry", description="咨询车位"), agent, "业主撤回")
    before = {case.number: {f: getattr(case, f) for f in EXPORTED} for case in Case.objects.all()}
    exported = admin_client.get(LIST_URL, {"export": "xlsx"})
    assert exported.status_code == 200
    Case.objects.all().delete()
    CaseCounter.objects.all().delete()

    run = run_import(b"".join(exported.streaming_content) if exported.streaming else exported.content,
                     user=agent, name="cases.xlsx")

    assert run.written == 4, errors(run)
    after = {case.number: {f: getattr(case, f) for f in EXPORTED} for case in Case.objects.all()}
    assert after == before
    assert {c.number: c.status for c in Case.objects.all()}.keys() == before.keys()


# --- The admin pages -------------------------------------------------------------------------------


def post(client, content, action, name="历史工单.xlsx"):
    return client.post(IMPORT_URL, {"file": upload(content, name), "action": action})


def test_the_form_page(manager_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        page = manager_client.get(IMPORT_URL)

    assert page.status_code == 200
    text = page.content.decode()
    assert "导入历史工单" in text and reverse("cases_import_template") in text
    assert 'value="dry_run"' in text and 'value="commit"' in text


def test_the_menu_item_is_for_those_who_may_import(client, manager, project):
    client.force_login(manager)
    assert IMPORT_URL in client.get("/admin/").content.decode()

    client.force_login(staff_with_perms("cases.view_case", projects=[project]))
    assert IMPORT_URL not in client.get("/admin/").content.decode()


def test_a_dry_run_through_the_page_writes_nothing(manager_client, project):
    response = post(manager_client, workbook(row(), row(工单号="BX20230105-0009")), "dry_run")

    assert response.status_code == 200
    text = response.content.decode()
    assert "校验通过（只校验，未写入）" in text and "BX20230105-0009" in text  # a sample row
    assert nothing_written()


def test_a_file_with_errors_is_answered_400_with_each_error(manager_client, project):
    response = post(manager_client, workbook(row(), row(项目="XX99")), "commit")

    assert response.status_code == 400
    text = response.content.decode()
    assert "发现 1 个错误，未写入任何数据" in text and "项目“XX99”不存在" in text
    assert nothing_written()


def test_the_import_through_the_page(manager_client, manager, project):
    response = post(manager_client, workbook(row(), row(类型="咨询", 分类=None)), "commit")

    assert response.status_code == 302 and response.url == IMPORT_URL
    assert Case.objects.count() == 2
    assert all(case.history.get().history_user == manager for case in Case.objects.all())
    followed = manager_client.get(response.url).content.decode()
    assert "已从“历史工单.xlsx”导入 2 条历史工单。" in followed


@pytest.mark.parametrize(
    "content, name, message",
    [
        ("单号,类型\nBX1,报修\n".encode(), "历史工单.csv", "只能导入 Excel（.xlsx）文件"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "照片.xlsx", "只能导入 Excel（.xlsx）文件"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 40, "旧版.xls", "这是旧版 Excel（.xls）文件"),
        (b"PK\x03\x04broken", "坏文件.xlsx", "文件已损坏"),
        (b"", "空.xlsx", "所提交的是空文件"),
    ],
)
def test_anything_but_an_xlsx_is_refused_with_a_chinese_message(manager_client, project, content, name, message):
    response = post(manager_client, content, "commit", name)

    assert 400 <= response.status_code < 500
    assert message in response.content.decode()
    assert nothing_written()


def test_staff_without_add_case_are_refused(client, project):
    viewer = staff_with_perms("cases.view_case", projects=[project])
    client.force_login(viewer)

    refused = client.get(IMPORT_URL)
    assert refused.status_code == 403 and "您没有登记工单的权限" in refused.content.decode()
    assert post(client, workbook(row()), "commit").status_code == 403
    assert client.get(reverse("cases_import_template")).status_code == 403
    assert nothing_written()


def test_the_template_has_headers_and_an_example_row_that_is_skipped(manager_client, manager, project):
    response = manager_client.get(reverse("cases_import_template"))

    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "工单" and list(rows[0]) == HEADERS and len(rows) == 2
    assert rows[1][0] == "BX20230105-0003"

    run = run_import(response.content, user=manager)
    assert errors(run) == [(None, None, "文件中没有可导入的数据行。")]
    assert run.report.warnings == ["工作表“工单”第 2 行是模板示例，已跳过。"]


# --- Large files in the background ---------------------------------------------------------------


@pytest.fixture
def small_threshold(settings):
    settings.ESTATES_IMPORT_BACKGROUND_ROWS = 3


def stored_uploads():
    storage = storages["private"]
    return storage.listdir("cases/imports")[1] if storage.exists("cases/imports") else []


def test_a_large_file_is_imported_by_the_worker(manager_client, manager, project, small_threshold):
    response = post(manager_client, workbook(*(row() for _ in range(5))), "commit")

    assert response.status_code == 302 and response.url.startswith(IMPORT_URL)
    waiting = manager_client.get(response.url).content.decode()
    assert REFRESH in waiting and "已交给后台导入" in waiting
    assert nothing_written() and len(stored_uploads()) == 1

    run_worker()

    assert Case.objects.count() == 5 and stored_uploads() == []
    assert {case.history.get().history_user for case in Case.objects.all()} == {manager}
    done = manager_client.get(response.url)
    assert done.status_code == 302 and done.url == IMPORT_URL
    assert "已从“历史工单.xlsx”导入 5 条历史工单。" in manager_client.get(IMPORT_URL).content.decode()

    # Only the uploader sees the result.
    manager_client.force_login(staff_with_perms("cases.add_case", projects=[project]))
    assert manager_client.get(response.url).status_code == 404
    assert manager_client.get(IMPORT_URL + "not-a-task/").status_code == 404


def test_a_large_dry_run_reports_through_the_worker(manager_client, project, small_threshold):
    response = post(manager_client, workbook(*(row() for _ in range(4)), row(项目="XX99")), "dry_run")
    run_worker()

    report = manager_client.get(response.url)

    assert report.status_code == 400
    text = report.content.decode()
    assert REFRESH not in text and "发现 1 个错误，未写入任何数据" in text and "项目“XX99”不存在" in text
    assert nothing_written() and stored_uploads() == []


def test_a_crashed_worker_says_so_and_writes_nothing(manager_client, project, small_threshold):
    response = post(manager_client, workbook(*(row() for _ in range(5))), "commit")

    with mock.patch("plugins.cases.importing.tasks.import_cases", side_effect=MemoryError):
        run_worker()

    page = manager_client.get(response.url).content.decode()
    assert "导入时发生内部错误，未导入任何数据" in page and REFRESH not in page
    assert nothing_written() and stored_uploads() == []


# --- The command -----------------------------------------------------------------------------------


def call(*args):
    out = io.StringIO()
    call_command("import_cases", *map(str, args), stdout=out)
    return out.getvalue()


def test_the_command(tmp_path, manager, project):
    path = tmp_path / "历史.xlsx"
    path.write_bytes(workbook(row(), row(工单号="BX20230105-0007")))

    assert "校验通过（试运行，未写入数据库）" in call(path, "--dry-run", "--user", "manager")
    assert nothing_written()

    output = call(path, "--user", "manager")

    assert "已导入 2 条历史工单" in output
    assert {c.history.get().history_change_reason for c in Case.objects.all()} == {"导入历史工单：历史.xlsx"}
    assert {e.actor_user for e in CaseEvent.objects.all()} == {manager}


def test_the_command_refuses_bad_files_and_users(tmp_path, project, agent):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook(row(联系电话="123")))
    with pytest.raises(CommandError, match="共 1 个错误，未导入任何数据。"):
        call(bad)
    text = tmp_path / "cases.csv"
    text.write_text("类型\n报修\n")
    with pytest.raises(CommandError, match="只能导入 Excel"):
        call(text)
    with pytest.raises(CommandError, match="用户“nobody”不存在。"):
        call(bad, "--user", "nobody")
    staff_with_perms("cases.view_case", username="viewer")
    with pytest.raises(CommandError, match="没有登记工单的权限"):
        call(bad, "--user", "viewer")
    assert nothing_written()


def test_the_command_without_a_user_acts_as_the_system(tmp_path, project, other_project):
    path = tmp_path / "all.xlsx"
    path.write_bytes(workbook(row(), row(项目="SH02")))

    call(path)

    event = CaseEvent.objects.first()
    assert event.actor_type == "system" and event.actor_user is None
    assert Case.objects.count() == 2
