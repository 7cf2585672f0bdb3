"""Open an import file, judged by its content (never its name), and yield its tables.

An .xlsx is a zip holding ``[Content_Types].xml`` and an ``xl/`` folder; it is read with
openpyxl in read-only mode, values only, one row at a time. Anything else must be text: UTF-8
(with or without BOM), else GB18030 (Excel's "CSV" on Chinese Windows), read as one table.
"""

import csv
import io
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from django.utils.translation import gettext as _

from . import schema

XLSX, CSV = "xlsx", "csv"
#: How far down a sheet the header row may be (a title row above it is common).
HEADER_SEARCH_ROWS = 10
#: An .xlsx may unpack to at most this many times the upload limit (zip bombs).
MAX_UNPACK_RATIO = 20
CONTROL_CHARS = {chr(c) for c in range(32)} - {"\t", "\n", "\r"}


class FileRejected(Exception):
    """The file as a whole cannot be imported. ``message`` is for the clerk; ``status`` is
    the HTTP status the admin answers with."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class Table:
    kind: schema.Kind | None
    name: str  # the sheet's name, or the CSV file's
    header_row: int  # 1-based, as Excel numbers rows
    headers: list
    rows: Iterator  # (row number, tuple of cell values), after the header row
    size_hint: int | None  # data rows below the header, when the file says so


def sniff(fileobj, max_bytes):
    """Return XLSX or CSV, or raise FileRejected. Leaves ``fileobj`` at its start.
    ``max_bytes`` (None: no limit) bounds what an .xlsx may unpack to."""
    fileobj.seek(0)
    head = fileobj.read(8)
    fileobj.seek(0)
    if not head:
        raise FileRejected(_("文件是空的。"))
    if head.startswith(b"PK\x03\x04"):
        _check_zip(fileobj, max_bytes)
        return XLSX
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected(_("这是旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 后再上传。"))
    _decode(fileobj.read())
    fileobj.seek(0)
    return CSV


def _check_zip(fileobj, max_bytes):
    try:
        with zipfile.ZipFile(fileobj) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRejected(_("文件已损坏，无法作为 Excel（.xlsx）文件打开。")) from None
    finally:
        fileobj.seek(0)
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise FileRejected(_("这是一个压缩包，不是 Excel（.xlsx）文件。"))
    if max_bytes and sum(info.file_size for info in infos) > max_bytes * MAX_UNPACK_RATIO:
        raise FileRejected(_("文件解压后过大，请拆分后再导入。"), status=413)


def _decode(data):
    if b"\x00" in data:
        raise FileRejected(_("文件不是 Excel（.xlsx）或 CSV 文件。"))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not CONTROL_CHARS.intersection(text[:100_000]):
            return text
        break
    raise FileRejected(_("文件不是 Excel（.xlsx）或 CSV 文件（CSV 须为 UTF-8 或 GBK 编码的文本）。"))


@contextmanager
def open_tables(fileobj, file_format, name=""):
    """Yield the list of tables in the file. XLSX: one per recognised sheet (others, such as
    a notes sheet, are left out). CSV: one, its kind guessed from its headers (None when no
    header is known)."""
    fileobj.seek(0)
    if file_format == XLSX:
        with _open_workbook(fileobj) as workbook:
            yield _workbook_tables(workbook)
    else:
        yield [_csv_table(fileobj.read(), name)]


@contextmanager
def _open_workbook(fileobj):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise FileRejected(_("文件已损坏，无法作为 Excel（.xlsx）文件打开。")) from None
    try:
        yield workbook
    finally:
        workbook.close()


def _workbook_tables(workbook):
    tables = []
    for sheet in workbook.worksheets:
        kind = schema.kind_for_sheet(sheet.title)
        if kind is None or not hasattr(sheet, "iter_rows"):
            continue
        rows = _guarded(enumerate(sheet.iter_rows(values_only=True), start=1))
        header_row, headers = _find_header(rows, lambda headers: schema.map_headers(kind, headers)[0])
        size_hint = None
        if sheet.max_row is not None and header_row:
            size_hint = max(sheet.max_row - header_row, 0)
        tables.append(Table(kind, sheet.title, header_row, headers, rows, size_hint))
    return tables


def _csv_table(data, name):
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    rows = enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
    rows = _guarded(_unwrap_formulas(rows))
    header_row, headers = _find_header(rows, schema.guess_kind)
    kind = schema.guess_kind(headers) if header_row else None
    size_hint = max(text.count("\n") - header_row, 0) if header_row else 0
    return Table(kind, name, header_row, headers, rows, size_hint)


def _unwrap_formulas(rows):
    """="110101199003078031" is how people keep a long number as text in a CSV for Excel."""
    for number, values in rows:
        if any(value.startswith('="') for value in values):
            values = [v[2:-1] if v.startswith('="') and v.endswith('"') else v for v in values]
        yield number, values


def _find_header(rows, recognise):
    """The first row that ``recognise`` accepts among the first HEADER_SEARCH_ROWS non-empty
    rows, else the first non-empty row. Returns (row number or 0, headers)."""
    first = None
    for count, (number, values) in enumerate(rows):
        if not any(v not in (None, "") for v in values):
            continue
        if first is None:
            first = (number, list(values))
        if recognise(values):
            return number, list(values)
        if count >= HEADER_SEARCH_ROWS:
            break
    return first or (0, [])


def _guarded(rows):
    """Rows as they come; a file that breaks half-way through is rejected, not a 500."""
    try:
        yield from rows
    except FileRejected:
        raise
    except Exception:
        raise FileRejected(_("文件已损坏，读取到一半出错。")) from None
