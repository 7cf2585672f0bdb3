"""What the import accepts as a file (judged by content, never by name) and how it finds the
sheets, the header row and a CSV's kind; cell normalisation."""

import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.utils import translation

from estates.importing import cells, reader, schema

from .test_import_helpers import OWNER_HEADERS, UNIT_HEADERS, csv_bytes, unit_row, units_sheet, xlsx_bytes

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run in DOS mode."
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def plain_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


def tables_of(content, name="x"):
    fileobj = io.BytesIO(content)
    file_format = reader.sniff(fileobj, 10 * 1024 * 1024)
    with reader.open_tables(fileobj, file_format, name) as tables:
        return [(t.kind.key if t.kind else None, t.header_row, list(t.rows)) for t in tables]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "文件是空的。"),
        (PNG, "文件不是 Excel（.xlsx）或 CSV 文件。"),
        (EXE, "文件不是 Excel（.xlsx）或 CSV 文件。"),
        (XLS, "这是旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 后再上传。"),
        (plain_zip(), "这是一个压缩包，不是 Excel（.xlsx）文件。"),
        (b"PK\x03\x04 this is not really a zip", "文件已损坏，无法作为 Excel（.xlsx）文件打开。"),
        ("楼栋,房号\n1,1501\x07\n".encode(), "文件不是 Excel（.xlsx）或 CSV 文件（CSV 须为 UTF-8 或 GBK 编码的文本）。"),
    ],
)
def test_files_are_judged_by_content(content, message):
    with pytest.raises(reader.FileRejected) as excinfo:
        reader.sniff(io.BytesIO(content), 1024 * 1024)
    assert excinfo.value.message == message
    assert excinfo.value.status == 400


def test_an_xlsx_that_unpacks_too_large_is_refused():
    content = xlsx_bytes({"房号": units_sheet(*(unit_row(number=str(n)) for n in range(200)))})
    with pytest.raises(reader.FileRejected) as excinfo:
        reader.sniff(io.BytesIO(content), max_bytes=1000)
    assert excinfo.value.status == 413


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings(encoding):
    content = csv_bytes([UNIT_HEADERS, unit_row()], encoding=encoding)

    [(kind, header_row, rows)] = tables_of(content)

    assert (kind, header_row) == ("units", 1)
    assert rows == [(2, ["1", "1", "15", "1501", "89.5", "三室两厅", "第一批", "待交付", ""])]


def test_csv_text_formulas_are_unwrapped():
    content = csv_bytes([OWNER_HEADERS, ["1", "1", "1501", "张三", '="13800138000"', '="11010119900307803X"', "", "", ""]])
    [(_kind, _header, rows)] = tables_of(content)
    assert rows[0][1][4:6] == ["13800138000", "11010119900307803X"]


def test_csv_kind_comes_from_its_headers():
    assert tables_of(csv_bytes([OWNER_HEADERS]))[0][0] == "owners"
    assert tables_of(csv_bytes([["单位名称", "工种"]]))[0][0] == "contractors"
    assert tables_of(csv_bytes([["姓名", "年龄"]]))[0][0] == "owners"  # closest; the engine names what is missing
    assert tables_of(csv_bytes([["甲", "乙"]]))[0][0] is None


def test_tab_separated_text_is_read():
    content = "\n".join(["\t".join(UNIT_HEADERS), "\t".join(["1", "1", "15", "1501", "", "", "", "", ""])]).encode()
    [(kind, _header, rows)] = tables_of(content)
    assert kind == "units" and rows[0][1][3] == "1501"


def test_header_row_below_a_title_row_and_other_sheets_ignored():
    content = xlsx_bytes(
        {
            "说明": [["这是说明"]],
            "房号": [["西湖花园房号清单"], [], UNIT_HEADERS, unit_row()],
            "业主 ": [OWNER_HEADERS],
        }
    )

    tables = tables_of(content)

    assert [(kind, header) for kind, header, _rows in tables] == [("units", 3), ("owners", 1)]
    assert tables[0][2][0][0] == 4


def test_header_matching_is_loose():
    headers = [" 楼栋* ", "单元号", "房间号", "建筑面积（㎡）", "备注", "房号"]
    mapping, unknown, twice = schema.map_headers(schema.UNIT_KIND, headers)
    assert [c.key for c in mapping.values()] == ["building", "entrance", "number", "area"]
    assert unknown == ["备注"]
    assert [c.key for c in twice] == ["number"]


# --- cells --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (datetime.datetime(2026, 3, 1, 0, 0), datetime.date(2026, 3, 1)),
        (datetime.date(2026, 3, 1), datetime.date(2026, 3, 1)),
        ("2026-03-01", datetime.date(2026, 3, 1)),
        ("2026/3/1", datetime.date(2026, 3, 1)),
        ("２０２６／３／１", datetime.date(2026, 3, 1)),
        ("2026.3.1", datetime.date(2026, 3, 1)),
        ("2026年3月1日", datetime.date(2026, 3, 1)),
        ("20260301", datetime.date(2026, 3, 1)),
        ("2026-03-01 00:00:00", datetime.date(2026, 3, 1)),
        (46082, datetime.date(2026, 3, 1)),  # an Excel date serial left unformatted
        ("", None),
        (None, None),
    ],
)
def test_dates(value, expected):
    assert cells.date(value, "交付日期") == expected


@pytest.mark.parametrize("value", ["2026-02-30", "明年", "3/1/2026"])
def test_bad_dates(value):
    with pytest.raises(cells.CellError) as excinfo:
        cells.date(value, "交付日期")
    assert excinfo.value.message.startswith(f"交付日期“{value}”不是有效日期")


@pytest.mark.parametrize(
    "value, expected",
    [("１５０２", "1502"), (1502.0, "1502"), (1502, "1502"), (" 1502 ", "1502"), ("1502.0", "1502"), ("1502室", "1502"), ("Ａ１", "A1")],
)
def test_room_numbers(value, expected):
    assert cells.code(value, "房号", 20, "室") == expected


@pytest.mark.parametrize("value", [13800138000.0, "13800138000", "１３８００１３８０００", "+86 138-0013-8000", "138 0013 8000"])
def test_mobiles(value):
    assert cells.mobile(value) == "13800138000"


def test_amounts():
    assert cells.decimal("50,000元", "质保金", 12) == Decimal("50000.00")
    assert cells.decimal(89.499999, "建筑面积", 8) == Decimal("89.50")
    with pytest.raises(cells.CellError):
        cells.decimal("-1", "建筑面积", 8)
    with pytest.raises(cells.CellError):
        cells.decimal("1000000", "建筑面积", 8)


def test_too_long_text():
    with pytest.raises(cells.CellError) as excinfo:
        cells.text("长" * 60, "户型", 50)
    assert "最多 50 个字" in excinfo.value.message


def test_lists():
    assert cells.name_list("水电、防水，电梯;水电") == ["水电", "防水", "电梯"]
