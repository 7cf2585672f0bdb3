"""A deterministic estates workbook for import benchmarks (no Django needed).

Two sheets in the layout ``import_estates`` reads: "房号" (one row per unit) and "业主" (one row
per owner and unit). Every value is valid, so a correct import creates exactly
``units`` units, ``owners`` owners and ``ownerships`` ownerships.

The file is written with openpyxl's write_only mode, then rewritten the way Excel saves a
workbook: each sheet states its ``<dimension>`` and strings live in a shared-strings table.
Without the dimension, openpyxl's read-only loader parses every sheet once more just to size it
(about 20 s for this file), a cost files saved by Excel or WPS never carry.

Shape: buildings of 2 entrances × 25 floors × 4 units; in every ten units one is unsold, one
has two owners (one primary) and eight have one, so owners == units (for a multiple of ten).
Owners are all distinct, so ownerships == owners. Mobiles are in the unallocated 154 segment; ID numbers carry a valid GB 11643
check digit and are distinct by construction.

    .venv/bin/python bench/estates_workbook.py --units 1000 /tmp/estates.xlsx
"""

import argparse
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

#: Bump when the generated content changes, so cached workbooks are rebuilt.
VERSION = 2

UNITS_SHEET = "房号"
OWNERS_SHEET = "业主"
UNIT_HEADERS = ("楼栋", "单元", "楼层", "房号", "建筑面积", "户型", "交付批次", "交付状态", "交付日期")
OWNER_HEADERS = ("楼栋", "单元", "房号", "业主姓名", "手机号", "身份证号", "主业主", "产权起始日期")

ENTRANCES = 2
FLOORS = 25
PER_FLOOR = 4
UNITS_PER_BUILDING = ENTRANCES * FLOORS * PER_FLOOR
LAYOUTS = (("三室两厅两卫", 125.36), ("两室两厅一卫", 89.12), ("两室一厅一卫", 72.5), ("三室两厅一卫", 98.8))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建国志海晓文俊浩宇佳欣雨婷"
REGIONS = ("330110", "330106", "510104", "510107", "320506", "420102", "610113", "440106")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
BIRTH_START = date(1960, 1, 1)
BIRTH_DAYS = 365 * 38


@dataclass(frozen=True)
class Summary:
    units: int
    owners: int
    ownerships: int
    buildings: tuple  # building codes, for creating them before the import


def building_codes(units):
    return tuple(str(n) for n in range(1, -(-units // UNITS_PER_BUILDING) + 1))


def mobile(index):
    return f"154{(index * 48271 + 55_555_555) % 100_000_000:08d}"


def id_number(index):
    # index → (birthday, sequence) is one-to-one below BIRTH_DAYS * 1000, so IDs are distinct.
    birthday = BIRTH_START + timedelta(days=index % BIRTH_DAYS)
    seq = (index // BIRTH_DAYS) % 1000
    body = f"{REGIONS[index % len(REGIONS)]}{birthday:%Y%m%d}{seq:03d}"
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS))
    return body + ID_CHECK_CHARS[total % 11]


def name(index):
    n = index * 7919
    given = GIVEN[n % len(GIVEN)]
    if index % 3:
        given += GIVEN[(n // len(GIVEN)) % len(GIVEN)]
    return SURNAMES[(n // 97) % len(SURNAMES)] + given


def rows(units):
    """Yield ("unit", row) and ("owner", row) tuples in file order, per sheet."""
    owner = 0
    for index in range(units):
        building, rest = divmod(index, UNITS_PER_BUILDING)
        entrance, rest = divmod(rest, FLOORS * PER_FLOOR)
        floor, position = divmod(rest, PER_FLOOR)
        floor += 1
        layout, area = LAYOUTS[position]
        number = f"{floor}{position + 1:02d}"
        code, entrance = str(building + 1), str(entrance + 1)
        sold = index % 10 != 9
        handed = sold and building % 3 != 2
        handover_date = date(2025, 6, 28) + timedelta(days=index % 40) if handed else None
        yield "unit", (code, entrance, floor, number, area, layout, f"第{building % 3 + 1}批",
                       "已交付" if handed else "待交付", handover_date)
        if not sold:
            continue
        start = date(2023, 4, 15) + timedelta(days=index % 700)
        holders = 2 if index % 10 == 0 else 1
        for holder in range(holders):
            yield "owner", (code, entrance, number, name(owner), mobile(owner), id_number(owner),
                            "是" if holder == 0 else "否", start)
            owner += 1


def summarize(units):
    owners = sum(1 for kind, _row in rows(units) if kind == "owner")
    return Summary(units=units, owners=owners, ownerships=owners, buildings=building_codes(units))


def generate(path, units):
    """Write the workbook to ``path`` (atomically) and return its Summary."""
    from openpyxl import Workbook

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    unit_sheet = workbook.create_sheet(UNITS_SHEET)
    owner_sheet = workbook.create_sheet(OWNERS_SHEET)
    unit_sheet.append(UNIT_HEADERS)
    owner_sheet.append(OWNER_HEADERS)
    owners = 0
    for kind, row in rows(units):
        if kind == "unit":
            unit_sheet.append(row)
        else:
            owner_sheet.append(row)
            owners += 1
    dimensions = {
        "xl/worksheets/sheet1.xml": _ref(len(UNIT_HEADERS), units + 1),
        "xl/worksheets/sheet2.xml": _ref(len(OWNER_HEADERS), owners + 1),
    }
    fd, written = tempfile.mkstemp(suffix=".xlsx", dir=path.parent)
    os.close(fd)
    fd, rewritten = tempfile.mkstemp(suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        workbook.save(written)
        excel_like(written, rewritten, dimensions)
        os.chmod(rewritten, 0o644)
        os.replace(rewritten, path)
    finally:
        for leftover in (written, rewritten):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return Summary(units=units, owners=owners, ownerships=owners, buildings=building_codes(units))


def _ref(columns, rows):
    from openpyxl.utils import get_column_letter

    return f"A1:{get_column_letter(columns)}{rows}"


# openpyxl writes every string cell inline: <c r="A2" [s="1"] t="inlineStr"><is><t>…</t></is></c>
INLINE_STRING_RE = re.compile(
    rb'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?) t="inlineStr"><is><t((?: [^>]*)?)>(.*?)</t></is></c>',
    re.S,
)
MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHARED_STRINGS_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SHARED_STRINGS_REL = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def excel_like(source, target, dimensions):
    """Copy the workbook ``source`` to ``target`` as Excel would save it: ``dimensions``
    ({sheet part: "A1:I100001"}) written into each sheet, inline strings moved to a shared
    table. The XML is already escaped, so strings are moved as bytes."""
    table = {}  # (attributes of <t>, escaped text) → index
    uses = 0

    def share(match):
        nonlocal uses
        uses += 1
        index = table.setdefault((match.group(3), match.group(4)), len(table))
        return b'<c r="%s"%s t="s"><v>%d</v></c>' % (match.group(1), match.group(2), index)

    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename in dimensions:
                data = INLINE_STRING_RE.sub(share, data)
                anchor = data.find(b"<sheetViews")
                anchor = anchor if anchor >= 0 else data.index(b"<sheetData")
                dimension = b'<dimension ref="%s"/>' % dimensions[info.filename].encode()
                data = data[:anchor] + dimension + data[anchor:]
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" '
                                    b'ContentType="%s"/></Types>' % SHARED_STRINGS_TYPE)
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Type="%s" '
                                    b'Target="sharedStrings.xml" Id="rIdSharedStrings"/>'
                                    b"</Relationships>" % SHARED_STRINGS_REL)
            zout.writestr(info, data)
        items = b"".join(b"<si><t%s>%s</t></si>" % key for key in table)
        zout.writestr(
            "xl/sharedStrings.xml",
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<sst xmlns="%s" count="%d" uniqueCount="%d">%s</sst>'
            % (MAIN_NS, uses, len(table), items),
        )


def cached(directory, units):
    """The workbook for ``units`` under ``directory``, generated only when missing.
    Returns (path, Summary, generated?)."""
    path = Path(directory) / f"estates-{units}-v{VERSION}.xlsx"
    if path.exists():
        return path, summarize(units), False
    return path, generate(path, units), True


def read_all(path):
    """Read every cell of every sheet with openpyxl in read-only mode; returns the row count.
    The benchmarks' baseline: parsing the file is work any importer must do."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        count = 0
        for sheet in workbook.worksheets:
            for _row in sheet.iter_rows(values_only=True):
                count += 1
        return count
    finally:
        workbook.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--units", type=int, default=100_000)
    args = parser.parse_args()
    summary = generate(args.path, args.units)
    print(f"{args.path}: 房号 {summary.units:,}，业主 {summary.owners:,}，楼栋 {len(summary.buildings)}")


if __name__ == "__main__":
    main()
