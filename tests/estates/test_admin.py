"""The estates registry's admin screens as staff use them: lists, inspect, create, edit, delete,
filters, search, exports, form validation, history rows and query counts (Wagtail snippet
viewsets under /admin/snippets/estates/…)."""

import csv
import datetime
import io
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook

from estates.models import (
    Building,
    Contractor,
    Department,
    HandoverStatus,
    Owner,
    Ownership,
    Project,
    Trade,
    Unit,
)
from tests import factories as f

#: For the tests of behaviour that needs a change in estates/viewsets.py (owned by another
#: engineer; the change is written up with the tests). strict: once it lands, these XPASS and
#: fail, so the marker is removed.
NEEDS_VIEWSETS_FIX = pytest.mark.xfail(strict=True, reason="needs the estates/viewsets.py change")

MODELS = ("project", "building", "unit", "owner", "ownership", "contractor", "department")
#: Every estates model permission: scope tests use staff who may do anything, somewhere.
ALL_PERMS = tuple(
    f"estates.{action}_{model}"
    for model in (*MODELS, "trade")
    for action in ("add", "change", "delete", "view")
)


def url(model, action="list", pk=None):
    base = f"/admin/snippets/estates/{model}/"
    if action == "list":
        return base
    if action == "add":
        return f"{base}add/"
    return f"{base}{action}/{pk}/"


def listed(response):
    """The objects on a list page (the rows of this page of the table)."""
    assert response.status_code == 200, response.status_code
    return list(response.context["object_list"])


def labels(response):
    return sorted(str(unit) for unit in listed(response))


def names(response):
    return sorted(obj.name for obj in listed(response))


def xlsx_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def csv_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


@dataclass
class Estate:
    a: Project
    b: Project
    a3: Building
    a12: Building
    b5: Building
    a_3_1_1502: Unit
    a_3_1_1602: Unit
    a_12_2_1502: Unit
    b_5_1_1502: Unit
    zhang_sanfeng: Owner
    li_xiaolong: Owner
    zhang_wei: Owner
    zhang_wuji: Owner
    a_ownership: Ownership
    b_ownership: Ownership
    a_contractor: Contractor
    b_contractor: Contractor
    ab_contractor: Contractor
    department: Department

    def other_project_object(self, model_name):
        """An object of ``model_name`` that belongs to project B only."""
        return {
            "project": self.b,
            "building": self.b5,
            "unit": self.b_5_1_1502,
            "owner": self.zhang_wuji,
            "ownership": self.b_ownership,
            "contractor": self.b_contractor,
        }[model_name]

    def own_project_object(self, model_name):
        """An object of ``model_name`` that belongs to project A."""
        return {
            "project": self.a,
            "building": self.a3,
            "unit": self.a_3_1_1502,
            "owner": self.zhang_sanfeng,
            "ownership": self.a_ownership,
            "contractor": self.a_contractor,
        }[model_name]


def build_estate():
    """Two projects. A (阳光花园) has buildings 3 and 12 and three units, B (湖畔雅苑) has
    building 5 and one unit; each unit has one current owner."""
    a = f.ProjectFactory(code="A01", name="阳光花园")
    b = f.ProjectFactory(code="B01", name="湖畔雅苑")
    a3 = f.BuildingFactory(project=a, code="3", name="3号楼")
    a12 = f.BuildingFactory(project=a, code="12", name="12号楼")
    b5 = f.BuildingFactory(project=b, code="5", name="5号楼")
    a_3_1_1502 = f.UnitFactory(building=a3, entrance="1", number="1502", delivery_batch="第一批")
    a_3_1_1602 = f.UnitFactory(
        building=a3,
        entrance="1",
        number="1602",
        floor=16,
        delivery_batch="第二批",
        handover_status=HandoverStatus.HANDED_OVER,
        handover_date=datetime.date(2026, 6, 30),
    )
    a_12_2_1502 = f.UnitFactory(building=a12, entrance="2", number="1502", delivery_batch="第一批")
    b_5_1_1502 = f.UnitFactory(building=b5, entrance="1", number="1502", delivery_batch="第一批")
    zhang_sanfeng = f.OwnerFactory(name="张三丰", mobile="13900000001")
    li_xiaolong = f.OwnerFactory(name="李小龙", mobile="13900000002")
    zhang_wei = f.OwnerFactory(name="张伟", mobile="13912345678")
    zhang_wuji = f.OwnerFactory(name="张无忌", mobile="13700000003")
    a_ownership = f.OwnershipFactory(owner=zhang_sanfeng, unit=a_3_1_1502)
    f.OwnershipFactory(owner=li_xiaolong, unit=a_3_1_1602)
    f.OwnershipFactory(owner=zhang_wei, unit=a_12_2_1502)
    b_ownership = f.OwnershipFactory(owner=zhang_wuji, unit=b_5_1_1502)
    a_contractor = f.ContractorFactory(name="甲建设工程有限公司", projects=[a])
    b_contractor = f.ContractorFactory(name="乙装饰工程有限公司", projects=[b])
    ab_contractor = f.ContractorFactory(name="丙机电安装有限公司", projects=[a, b])
    department = f.DepartmentFactory(code="CS", name="客服部")
    return Estate(**locals())


@pytest.fixture
def estate(db):
    return build_estate()


# --- Browse: list and inspect -------------------------------------------------------------------


LIST_EXPECTATIONS = {
    "project": ["阳光花园", "湖畔雅苑"],
    "building": ["3号楼", "12号楼", "5号楼"],
    "unit": ["3-1-1502", "3-1-1602", "12-2-1502", "5-1-1502"],
    "owner": ["张三丰", "李小龙", "张伟", "张无忌", "139****0001"],
    "ownership": ["张三丰", "3-1-1502", "张无忌", "5-1-1502"],
    "contractor": ["甲建设工程有限公司", "乙装饰工程有限公司", "丙机电安装有限公司"],
    "department": ["客服部"],
}


@pytest.mark.parametrize("model", MODELS)
def test_superuser_list_shows_every_row(admin_client, estate, model):
    response = admin_client.get(url(model))
    html = response.content.decode()
    assert response.status_code == 200
    for text in LIST_EXPECTATIONS[model]:
        assert text in html
    assert len(listed(response)) == {
        "project": 2, "building": 3, "unit": 4, "owner": 4, "ownership": 4, "contractor": 3,
        "department": 1,
    }[model]


def test_owner_list_masks_mobiles(admin_client, estate):
    html = admin_client.get(url("owner")).content.decode()
    assert "139****0001" in html
    assert "13900000001" not in html


@pytest.mark.parametrize(
    "model, attr, expected",
    [
        ("project", "a", "阳光花园"),
        ("building", "a3", "3号楼"),
        ("unit", "a_3_1_1502", "3-1-1502"),
        ("owner", "zhang_sanfeng", "13900000001"),
        ("ownership", "a_ownership", "张三丰"),
        ("contractor", "ab_contractor", "丙机电安装有限公司"),
        ("department", "department", "客服部"),
    ],
)
def test_inspect(admin_client, estate, model, attr, expected):
    obj = getattr(estate, attr)
    response = admin_client.get(url(model, "inspect", obj.pk))
    assert response.status_code == 200
    assert expected in response.content.decode()


# --- Create, edit, delete -----------------------------------------------------------------------


def post_form(client, target, data):
    response = client.post(target, data)
    if response.status_code != 302:
        form = response.context.get("form") if response.context else None
        pytest.fail(f"expected a redirect, got {response.status_code}: {form.errors if form else ''}")
    return response


def test_create_project(admin_client, db):
    post_form(admin_client, url("project", "add"), {"code": "C01", "name": "星河湾", "city": "杭州", "hotline": "", "address": "", "service_plan": ""})
    assert Project.objects.get(code="C01").name == "星河湾"


def test_create_building(admin_client, estate):
    post_form(admin_client, url("building", "add"), {"project": estate.a.pk, "code": "7", "name": "7号楼", "floors": "26"})
    building = Building.objects.get(project=estate.a, code="7")
    assert (building.name, building.floors) == ("7号楼", 26)


def test_create_unit_takes_project_and_label_from_its_building(admin_client, estate):
    post_form(
        admin_client,
        url("unit", "add"),
        {
            "building": estate.a12.pk, "entrance": "2", "floor": "25", "number": "2501", "area": "120.5",
            "layout": "四室两厅", "delivery_batch": "第三批", "handover_status": "pending", "handover_date": "",
        },
    )
    unit = Unit.objects.get(label="12-2-2501")
    assert unit.project == estate.a
    assert unit.area == pytest.approx(120.5)


def test_create_owner(admin_client, db):
    post_form(admin_client, url("owner", "add"), {"name": "赵敏", "mobile": "13600000009", "email": "", "remark": ""})
    assert Owner.objects.get(name="赵敏").mobile == "13600000009"


def test_create_ownership(admin_client, estate):
    owner = f.OwnerFactory(name="赵敏")
    post_form(
        admin_client,
        url("ownership", "add"),
        {"owner": owner.pk, "unit": estate.a_12_2_1502.pk, "start": "2026-07-01", "end": "", "is_primary": "on"},
    )
    assert Ownership.objects.get(owner=owner).unit == estate.a_12_2_1502


def test_create_contractor_with_trades_and_projects(admin_client, estate):
    trades = list(Trade.objects.all()[:2])
    assert len(trades) == 2, "the shipped trades come from a data migration"
    post_form(
        admin_client,
        url("contractor", "add"),
        {
            "name": "丁防水工程有限公司", "trades": [t.pk for t in trades], "contact_name": "李工",
            "contact_mobile": "13500000005", "warranty_deposit": "20000", "active": "on",
            "projects": [estate.a.pk], "remark": "",
        },
    )
    contractor = Contractor.objects.get(name="丁防水工程有限公司")
    assert set(contractor.trades.all()) == set(trades)
    assert list(contractor.projects.all()) == [estate.a]


def test_create_department(admin_client, db):
    post_form(admin_client, url("department", "add"), {"code": "ENG", "name": "工程部", "phone": "", "description": ""})
    assert Department.objects.get(code="ENG").name == "工程部"


def test_edit_project(admin_client, estate):
    post_form(admin_client, url("project", "edit", estate.a.pk), {"code": "A01", "name": "阳光花园二期", "city": "杭州", "hotline": "", "address": "", "service_plan": ""})
    estate.a.refresh_from_db()
    assert estate.a.name == "阳光花园二期"


def test_edit_building(admin_client, estate):
    post_form(admin_client, url("building", "edit", estate.a3.pk), {"project": estate.a.pk, "code": "3", "name": "3幢", "floors": "33"})
    estate.a3.refresh_from_db()
    assert (estate.a3.name, estate.a3.floors) == ("3幢", 33)


def test_edit_unit_moves_it_and_recomputes_label_and_project(admin_client, estate):
    unit = estate.a_12_2_1502
    post_form(
        admin_client,
        url("unit", "edit", unit.pk),
        {
            "building": estate.a3.pk, "entrance": "2", "floor": "15", "number": "1502", "area": "89.50",
            "layout": "三室两厅", "delivery_batch": "第一批", "handover_status": "scheduled", "handover_date": "",
        },
    )
    unit.refresh_from_db()
    assert (unit.label, unit.project, unit.handover_status) == ("3-2-1502", estate.a, "scheduled")


def test_edit_owner(admin_client, estate):
    owner = estate.zhang_sanfeng
    post_form(admin_client, url("owner", "edit", owner.pk), {"name": "张三丰", "mobile": "13900000011", "email": "zsf@example.com", "remark": "VIP"})
    owner.refresh_from_db()
    assert (owner.mobile, owner.email, owner.remark) == ("13900000011", "zsf@example.com", "VIP")


def test_edit_ownership_ends_it(admin_client, estate):
    ownership = estate.a_ownership
    post_form(
        admin_client,
        url("ownership", "edit", ownership.pk),
        {"owner": ownership.owner_id, "unit": ownership.unit_id, "start": "", "end": "2026-08-01", "is_primary": "on"},
    )
    ownership.refresh_from_db()
    assert ownership.end == datetime.date(2026, 8, 1)
    assert estate.zhang_sanfeng.unit_labels() == ""


def test_edit_contractor(admin_client, estate):
    contractor = estate.a_contractor
    post_form(
        admin_client,
        url("contractor", "edit", contractor.pk),
        {
            "name": contractor.name, "contact_name": "周工", "contact_mobile": "13500000006",
            "warranty_deposit": "1000", "projects": [estate.a.pk, estate.b.pk], "remark": "",
        },
    )
    contractor.refresh_from_db()
    assert (contractor.contact_name, contractor.active) == ("周工", False)
    assert set(contractor.projects.all()) == {estate.a, estate.b}


def test_edit_department(admin_client, estate):
    dept = estate.department
    post_form(admin_client, url("department", "edit", dept.pk), {"code": "CS", "name": "客户服务部", "phone": "400-800-1234", "description": ""})
    dept.refresh_from_db()
    assert dept.name == "客户服务部"


@pytest.mark.parametrize(
    "model, make",
    [
        ("project", lambda: f.ProjectFactory(code="DEL")),
        ("building", lambda: f.BuildingFactory()),
        ("unit", lambda: f.UnitFactory()),
        ("owner", lambda: f.OwnerFactory()),
        ("ownership", lambda: f.OwnershipFactory()),
        ("contractor", lambda: f.ContractorFactory()),
        ("department", lambda: f.DepartmentFactory(code="DEL")),
    ],
)
def test_delete(admin_client, db, model, make):
    obj = make()
    confirm = admin_client.get(url(model, "delete", obj.pk))
    assert confirm.status_code == 200
    response = admin_client.post(url(model, "delete", obj.pk))
    assert response.status_code == 302
    assert not type(obj).objects.filter(pk=obj.pk).exists()


def test_deleting_a_unit_with_owners_is_refused_not_a_500(admin_client, estate):
    unit = estate.a_3_1_1502
    response = admin_client.post(url("unit", "delete", unit.pk))
    assert response.status_code in (200, 302, 400, 403)
    assert Unit.objects.filter(pk=unit.pk).exists()


# --- Validation through the admin ---------------------------------------------------------------


@pytest.mark.parametrize("mobile", ["12345", "23900000001", "1390000000a"])
def test_owner_with_invalid_mobile_gets_a_form_error(admin_client, db, mobile):
    response = admin_client.post(url("owner", "add"), {"name": "赵敏", "mobile": mobile, "email": "", "remark": ""})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "mobile" in errors
    assert "手机号" in " ".join(errors["mobile"])
    assert not Owner.objects.filter(name="赵敏").exists()


def test_owner_with_a_too_long_mobile_gets_a_form_error(admin_client, db):
    response = admin_client.post(url("owner", "add"), {"name": "赵敏", "mobile": "139000000012", "email": "", "remark": ""})
    assert response.status_code == 200
    assert "mobile" in response.context["form"].errors
    assert not Owner.objects.filter(name="赵敏").exists()


@NEEDS_VIEWSETS_FIX
@pytest.mark.parametrize(
    "typed", ["+86 139-0000-0009", "139 0000 0009", "0086 13900000009", "１３９００００００09"]
)
def test_owner_mobile_typed_any_common_way_is_stored_as_11_digits(admin_client, db, typed):
    """Full-width digits (a Chinese IME) passed the model validator and were stored as typed,
    where no search and no SMS finds them; spaced forms were refused for their length."""
    response = admin_client.post(url("owner", "add"), {"name": "赵敏", "mobile": typed, "email": "", "remark": ""})
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert Owner.objects.get(name="赵敏").mobile == "13900000009"


@NEEDS_VIEWSETS_FIX
def test_contractor_mobile_typed_with_country_code_is_stored_as_11_digits(admin_client, db):
    response = admin_client.post(
        url("contractor", "add"),
        {"name": "戊公司", "contact_name": "", "contact_mobile": "+86 135 0000 0005", "warranty_deposit": "0", "remark": ""},
    )
    assert response.status_code == 302
    assert Contractor.objects.get(name="戊公司").contact_mobile == "13500000005"


def test_contractor_with_invalid_mobile_gets_a_form_error(admin_client, db):
    response = admin_client.post(
        url("contractor", "add"),
        {"name": "戊公司", "contact_name": "", "contact_mobile": "10086", "warranty_deposit": "0", "remark": ""},
    )
    assert response.status_code == 200
    assert "contact_mobile" in response.context["form"].errors
    assert not Contractor.objects.filter(name="戊公司").exists()


def test_duplicate_building_code_in_a_project_is_a_form_error(admin_client, estate):
    response = admin_client.post(url("building", "add"), {"project": estate.a.pk, "code": "3", "name": "另一个3号楼", "floors": ""})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Building.objects.filter(project=estate.a, code="3").count() == 1


def test_duplicate_unit_is_a_form_error(admin_client, estate):
    response = admin_client.post(
        url("unit", "add"),
        {"building": estate.a3.pk, "entrance": "1", "floor": "15", "number": "1502", "area": "", "layout": "",
         "delivery_batch": "", "handover_status": "pending", "handover_date": ""},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Unit.objects.filter(label="3-1-1502").count() == 1


# --- Filters ------------------------------------------------------------------------------------


def test_unit_filter_by_project(admin_client, estate):
    assert labels(admin_client.get(url("unit"), {"project": estate.b.pk})) == ["5-1-1502"]
    assert labels(admin_client.get(url("unit"), {"project": estate.a.pk})) == ["12-2-1502", "3-1-1502", "3-1-1602"]


def test_unit_filter_by_building(admin_client, estate):
    assert labels(admin_client.get(url("unit"), {"building": estate.a3.pk})) == ["3-1-1502", "3-1-1602"]


def test_unit_filter_by_delivery_batch(admin_client, estate):
    assert labels(admin_client.get(url("unit"), {"delivery_batch": "第二批"})) == ["3-1-1602"]
    assert labels(admin_client.get(url("unit"), {"delivery_batch": "第一批", "project": estate.a.pk})) == [
        "12-2-1502", "3-1-1502",
    ]


def test_unit_filter_by_handover_status(admin_client, estate):
    assert labels(admin_client.get(url("unit"), {"handover_status": "handed_over"})) == ["3-1-1602"]
    assert labels(admin_client.get(url("unit"), {"handover_status": "pending"})) == [
        "12-2-1502", "3-1-1502", "5-1-1502",
    ]


def test_unit_filters_combine(admin_client, estate):
    response = admin_client.get(url("unit"), {"building": estate.a3.pk, "handover_status": "pending"})
    assert labels(response) == ["3-1-1502"]


def test_owner_filter_by_project(admin_client, estate):
    assert names(admin_client.get(url("owner"), {"project": estate.b.pk})) == ["张无忌"]


def test_contractor_filter_by_project(admin_client, estate):
    assert names(admin_client.get(url("contractor"), {"projects": estate.b.pk})) == ["丙机电安装有限公司", "乙装饰工程有限公司"]


def test_building_filter_by_project(admin_client, estate):
    assert names(admin_client.get(url("building"), {"project": estate.a.pk})) == ["12号楼", "3号楼"]


def test_ownership_filter_current(admin_client, estate):
    estate.a_ownership.end = datetime.date(2026, 1, 1)
    estate.a_ownership.save()
    rows = listed(admin_client.get(url("ownership"), {"current": "true"}))
    assert estate.a_ownership not in rows and len(rows) == 3


# --- Search -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, expected",
    [
        ("3-1-1502", ["3-1-1502"]),
        ("12-2-1502", ["12-2-1502"]),  # seven digits in it: still a label, not a mobile
        ("3-1", ["3-1-1502", "3-1-1602"]),
        ("１２－２－１５０２", ["12-2-1502"]),  # full-width
        ("1602", ["3-1-1602"]),  # the room number alone
        ("三丰", ["3-1-1502"]),  # owner name, Chinese substring
        ("张", ["12-2-1502", "3-1-1502", "5-1-1502"]),
        ("13900000002", ["3-1-1602"]),
        ("+86 139-0000-0002", ["3-1-1602"]),
        ("139 0000 0002", ["3-1-1602"]),
        ("0086 139 1234 5678", ["12-2-1502"]),
        ("1391234", ["12-2-1502"]),  # a mobile's first digits
        ("不存在", []),
    ],
)
def test_unit_search(admin_client, estate, query, expected):
    assert labels(admin_client.get(url("unit"), {"q": query})) == expected


@pytest.mark.parametrize(
    "query, expected",
    [
        ("三丰", ["张三丰"]),
        ("张", sorted(["张三丰", "张伟", "张无忌"])),
        ("3-1-1502", ["张三丰"]),  # by unit label
        ("12-2-1502", ["张伟"]),
        ("3-1", sorted(["张三丰", "李小龙"])),
        ("13900000001", ["张三丰"]),
        ("+86 139-0000-0001", ["张三丰"]),
        ("+86 13900000001", ["张三丰"]),
        ("139 0000 0001", ["张三丰"]),
        ("139-0000-0001", ["张三丰"]),
        ("0086 13900000001", ["张三丰"]),
        ("１３９００００００01", ["张三丰"]),
        ("1390000", sorted(["张三丰", "李小龙"])),  # prefix of a mobile
        ("1370", ["张无忌"]),
        ("86 139 0000 0001", ["张三丰"]),
        ("不存在", []),
    ],
)
def test_owner_search(admin_client, estate, query, expected):
    assert names(admin_client.get(url("owner"), {"q": query})) == expected


def test_search_and_filter_combine(admin_client, estate):
    response = admin_client.get(url("unit"), {"q": "张", "project": estate.a.pk})
    assert labels(response) == ["12-2-1502", "3-1-1502"]


def test_contractor_and_project_search(admin_client, estate):
    assert names(admin_client.get(url("contractor"), {"q": "装饰"})) == ["乙装饰工程有限公司"]
    assert names(admin_client.get(url("project"), {"q": "湖畔"})) == ["湖畔雅苑"]


# --- Export -------------------------------------------------------------------------------------

UNIT_HEADINGS = ["项目", "楼栋", "房号全称", "单元", "楼层", "房号", "建筑面积(㎡)", "户型", "交付批次", "交付状态", "交付日期"]


def test_unit_xlsx_export_contains_only_the_filtered_rows_with_chinese_headings(admin_client, estate):
    rows = xlsx_rows(admin_client.get(url("unit"), {"project": estate.a.pk, "delivery_batch": "第一批", "export": "xlsx"}))
    assert rows[0] == UNIT_HEADINGS
    assert sorted(row[2] for row in rows[1:]) == ["12-2-1502", "3-1-1502"]
    assert {row[0] for row in rows[1:]} == {"阳光花园"}


def test_unit_xlsx_export_honours_the_search(admin_client, estate):
    rows = xlsx_rows(admin_client.get(url("unit"), {"q": "张无忌", "export": "xlsx"}))
    assert [row[2] for row in rows[1:]] == ["5-1-1502"]


def test_unit_csv_export_contains_only_the_filtered_rows_with_chinese_headings(admin_client, estate):
    rows = csv_rows(admin_client.get(url("unit"), {"handover_status": "handed_over", "export": "csv"}))
    assert rows[0] == UNIT_HEADINGS
    assert [row[2] for row in rows[1:]] == ["3-1-1602"]
    assert rows[1][10] == "2026-06-30"


@NEEDS_VIEWSETS_FIX
def test_unit_export_writes_the_handover_status_in_chinese(admin_client, estate):
    rows = xlsx_rows(admin_client.get(url("unit"), {"project": estate.a.pk, "export": "xlsx"}))
    assert rows[0][9] == "交付状态"
    assert {row[2]: row[9] for row in rows[1:]} == {"3-1-1502": "待交付", "3-1-1602": "已交付", "12-2-1502": "待交付"}


def test_owner_export_has_full_mobile_units_and_local_time(admin_client, estate):
    rows = xlsx_rows(admin_client.get(url("owner"), {"project": estate.a.pk, "export": "xlsx"}))
    assert rows[0] == ["姓名", "手机号", "身份证后四位", "电子邮箱", "房号", "创建时间"]
    by_name = {row[0]: row for row in rows[1:]}
    assert sorted(by_name) == sorted(["张三丰", "李小龙", "张伟"])
    assert by_name["张三丰"][1] == "13900000001"
    assert by_name["张三丰"][4] == "3-1-1502"
    # Shanghai wall-clock time, not UTC (STACK-NOTES: exports 8 h off).
    created = estate.zhang_sanfeng.created_at_local()
    assert abs(by_name["张三丰"][5] - created) < datetime.timedelta(seconds=1)


def test_owner_csv_export_filtered_by_search(admin_client, estate):
    rows = csv_rows(admin_client.get(url("owner"), {"q": "3-1", "export": "csv"}))
    assert rows[0][:2] == ["姓名", "手机号"]
    assert sorted(row[0] for row in rows[1:]) == ["张三丰", "李小龙"]


def test_contractor_export(admin_client, estate):
    rows = xlsx_rows(admin_client.get(url("contractor"), {"projects": estate.a.pk, "export": "xlsx"}))
    assert rows[0] == ["单位名称", "工种", "联系人", "联系手机", "质保金(元)", "服务项目", "合作中"]
    by_name = {row[0]: row for row in rows[1:]}
    assert sorted(by_name) == ["丙机电安装有限公司", "甲建设工程有限公司"]
    assert by_name["丙机电安装有限公司"][5] == "阳光花园、湖畔雅苑"


@pytest.mark.parametrize("model", ["project", "building", "ownership", "department"])
def test_other_exports_have_chinese_headings(admin_client, estate, model):
    rows = xlsx_rows(admin_client.get(url(model), {"export": "xlsx"}))
    for heading in rows[0]:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in heading), heading


# --- History ------------------------------------------------------------------------------------


def test_admin_edit_writes_a_history_row_with_the_staff_user(client, estate, make_staff):
    staff = make_staff(*ALL_PERMS, projects=[estate.a])
    client.force_login(staff)
    unit = estate.a_3_1_1502
    post_form(
        client,
        url("unit", "edit", unit.pk),
        {
            "building": unit.building_id, "entrance": "1", "floor": "15", "number": "1502", "area": "90.00",
            "layout": "三室两厅", "delivery_batch": "第一批", "handover_status": "scheduled", "handover_date": "",
        },
    )
    latest = unit.history.first()
    assert latest.history_type == "~"
    assert latest.history_user == staff
    assert latest.handover_status == "scheduled"
    assert unit.history.count() == 2


def test_admin_create_and_delete_write_history_rows_with_the_user(admin_client, admin_user, db):
    post_form(admin_client, url("owner", "add"), {"name": "赵敏", "mobile": "13600000009", "email": "", "remark": ""})
    owner = Owner.objects.get(name="赵敏")
    assert owner.history.get().history_user == admin_user
    admin_client.post(url("owner", "delete", owner.pk))
    deleted = Owner.history.filter(id=owner.pk, history_type="-").get()
    assert deleted.history_user == admin_user


# --- Query counts -------------------------------------------------------------------------------


def add_rows(project, start, stop):
    """Rows ``start`` … ``stop - 1`` in ``project``: a building, a unit with one owner and a
    contractor (with two trades) each."""
    trades = list(Trade.objects.all()[:2])
    for i in range(start, stop):
        building = f.BuildingFactory(project=project, code=f"Q{i}", name=f"Q{i}号楼")
        unit = f.UnitFactory(building=building, number=f"{1000 + i}")
        f.OwnershipFactory(unit=unit, owner=f.OwnerFactory(name=f"业主{i:03d}"))
        contractor = f.ContractorFactory(projects=[project])
        contractor.trades.set(trades)


QUERY_PAGES = [
    ("unit", {}),
    ("unit", {"export": "xlsx"}),
    ("unit", {"export": "csv"}),
    ("owner", {}),
    ("owner", {"export": "xlsx"}),
    ("owner", {"q": "业主"}),
    ("contractor", {}),
    ("contractor", {"export": "xlsx"}),
    ("building", {}),
    ("building", {"export": "xlsx"}),
    ("ownership", {}),
]


def fetch(client, model, params):
    response = client.get(url(model), params)
    assert response.status_code == 200
    if response.streaming:
        b"".join(response.streaming_content)  # a CSV export runs its queries while streaming
    return response


#: The most queries any list page or export above may make, whatever its number of rows.
MAX_QUERIES = 20


@pytest.mark.parametrize("kind", ["superuser", "scoped staff"])
@pytest.mark.parametrize("model, params", QUERY_PAGES)
def test_list_and_export_queries_do_not_grow_with_rows(
    client, db, admin_user, make_staff, django_assert_max_num_queries, kind, model, params
):
    """5 rows and then 60 (more than a page): under one bound, and not one query more."""
    project = f.ProjectFactory(code="Q01", name="数量花园")
    f.ProjectFactory(code="Q02", name="别的花园")  # a scoped staff member does not serve this one
    if kind == "superuser":
        client.force_login(admin_user)
    else:
        client.force_login(make_staff(*ALL_PERMS, projects=[project]))
    counts = []
    for start, stop in ((0, 5), (5, 60)):
        add_rows(project, start, stop)
        fetch(client, model, params)  # warm per-process caches (content types, site)
        with django_assert_max_num_queries(MAX_QUERIES) as captured:
            response = fetch(client, model, params)
        counts.append(len(captured))
        if not params.get("export"):
            assert len(response.context["object_list"]) == min(stop, 50)
    assert counts[0] == counts[1], counts
