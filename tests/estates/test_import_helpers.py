"""Shared builders for the import tests: workbooks and CSV files made in the test, a project
with buildings, and a clerk with the import permissions. (No tests here.)"""

import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from tests import factories
from tests.factories import valid_id_number

UNIT_HEADERS = ["楼栋", "单元", "楼层", "房号", "建筑面积", "户型", "交付批次", "交付状态", "交付日期"]
OWNER_HEADERS = ["楼栋", "单元", "房号", "业主姓名", "手机号", "身份证号", "主业主", "产权起始日期", "电子邮箱"]
CONTRACTOR_HEADERS = ["单位名称", "工种", "联系人", "联系手机", "质保金", "服务项目"]
IMPORT_PERMS = (
    "estates.add_unit",
    "estates.change_unit",
    "estates.add_owner",
    "estates.change_owner",
    "estates.add_ownership",
    "estates.change_ownership",
    "estates.add_contractor",
    "estates.change_contractor",
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(sheets):
    """``sheets``: {sheet name: [header row, data rows…]} → .xlsx bytes."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding="utf-8-sig"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def upload(content, name="导入.xlsx"):
    content_type = XLSX_TYPE if name.endswith(".xlsx") else "text/csv"
    return SimpleUploadedFile(name, content, content_type=content_type)


def unit_row(building="1", entrance="1", floor=15, number="1501", area=89.5, layout="三室两厅", batch="第一批", status="待交付", date=None):
    return [building, entrance, floor, number, area, layout, batch, status, date]


def owner_row(building="1", entrance="1", number="1501", name="张三", mobile="13800138000", id_number=None, primary="是", start=datetime.date(2026, 3, 1), email=""):
    return [building, entrance, number, name, mobile, id_number, primary, start, email]


def units_sheet(*rows):
    return [UNIT_HEADERS, *rows]


def owners_sheet(*rows):
    return [OWNER_HEADERS, *rows]


@pytest.fixture
def project(db):
    project = factories.ProjectFactory(code="HZ01", name="西湖花园")
    factories.BuildingFactory(project=project, code="1", name="1号楼")
    factories.BuildingFactory(project=project, code="2", name="2号楼")
    return project


@pytest.fixture
def other_project(db):
    project = factories.ProjectFactory(code="SH01", name="浦江花园")
    factories.BuildingFactory(project=project, code="1", name="1号楼")
    return project


@pytest.fixture
def clerk(make_staff, project):
    return make_staff(*IMPORT_PERMS, projects=[project], username="clerk")


__all__ = [
    "CONTRACTOR_HEADERS",
    "IMPORT_PERMS",
    "OWNER_HEADERS",
    "UNIT_HEADERS",
    "clerk",
    "csv_bytes",
    "other_project",
    "owner_row",
    "owners_sheet",
    "project",
    "unit_row",
    "units_sheet",
    "upload",
    "valid_id_number",
    "xlsx_bytes",
]
