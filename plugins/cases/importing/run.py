"""One import of historic cases: read the sheet, check every row, and either report (dry run)
or write everything in one transaction — any error, nothing written.

    report = import_cases(fileobj, "历史工单.xlsx", user=user, dry_run=True)

Shared by the admin page and ``manage.py import_cases``; estates' ImportRun does the reading
(blank rows, the template's example row, required cells, per-cell errors) and the
transaction (estates' import lock, classify again under it, write).
"""

import os
from contextlib import contextmanager

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from estates import scope
from estates.importing import reader
from estates.importing.engine import ImportBlocked, ImportRun
from estates.importing.reader import FileRejected
from estates.importing.schema import header_key, map_headers

from ..services import Actor
from .importer import CaseImporter
from .schema import CASE_KIND, CASES

#: simple-history's change reason holds 100 characters.
REASON_LENGTH = 100


class CaseImportRun(ImportRun):
    #: Cases written: set by import_cases after a successful apply.
    written = 0

    def __init__(self, *, user=None, actor=None, file_name=""):
        super().__init__(None, user=user)
        self.actor = actor or (Actor.staff(user) if user is not None else Actor.system())
        self.file_name = file_name
        self.project_ids = scope.project_ids_for(user) if user is not None else None

    def _read_table(self, table):
        if not table.header_row:
            return  # read() reports a file without data rows
        mapping, unknown, twice = map_headers(CASE_KIND, table.headers)
        keys = {column.key for column in mapping.values()}
        missing = [str(column.label) for column in CASE_KIND.required if column.key not in keys]
        if missing or twice:
            if missing:
                message = _("缺少必填列：%(columns)s。") % {"columns": "、".join(missing)}
            else:
                message = _("列“%(columns)s”出现了不止一次。") % {"columns": "、".join(str(c.label) for c in twice)}
            self.report.error(table.name, table.header_row, message)
            return
        if unknown:
            message = _("工作表“%(name)s”中的列 %(columns)s 无法识别，已忽略。")
            self.report.warn(message % {"name": table.name, "columns": "、".join(f"“{h}”" for h in unknown)})
        importer = CaseImporter(
            self.ctx, table.name, actor=self.actor, file_name=self.file_name, project_ids=self.project_ids
        )
        self.importers[CASES] = importer
        self.report.add_sheet(CASE_KIND, table.name)
        self._read_rows(table, importer, mapping)

    def _ordered(self):
        return list(self.importers.values())


def check_upload(upload):
    """Refuse anything but an .xlsx of acceptable size (raises FileRejected with the HTTP status)."""
    max_bytes = settings.ESTATES_IMPORT_MAX_BYTES
    if upload.size > max_bytes:
        raise FileRejected(
            _("文件太大（%(size)s MB），最大 %(max)s MB，请拆分后再导入。")
            % {"size": round(upload.size / 1024 / 1024, 1), "max": round(max_bytes / 1024 / 1024, 1)},
            status=413,
        )
    head = upload.read(4)
    upload.seek(0)
    if head and not head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise FileRejected(_("只能导入 Excel（.xlsx）文件，请在 Excel 中“另存为” .xlsx 后再上传。"))
    # A sound zip holding a workbook, not the old .xls. (Not jobs.inspect_upload: it opens the
    # workbook, and openpyxl reads all of a sheet that does not state its size — the case
    # list's export — just to open it.)
    reader.sniff(upload, max_bytes)


def import_cases(fileobj, name, *, user=None, actor=None, dry_run=False):
    """Read and check the file; unless ``dry_run``, write it all when nothing is wrong.
    Returns the run (``run.report``; ``run.written`` cases, 0 for a dry run or an error)."""
    name = os.path.basename(name or "")
    run = CaseImportRun(user=user, actor=actor, file_name=name)
    with open_case_table(fileobj) as table:
        run.read([table])
    if dry_run or not run.report.ok:
        run.preview()
        return run
    try:
        run.apply(change_reason(name))
    except ImportBlocked:
        return run
    run.written = len(run.importers[CASES].ready)
    return run


def change_reason(file_name):
    """The history reason of each imported case, in the site's language, within the 100
    characters simple-history keeps (the end of a long file name, with its extension, stays)."""
    with translation.override(settings.LANGUAGE_CODE):
        template = _("导入历史工单：%(file)s")
    room = REASON_LENGTH - len(template % {"file": ""})
    shown = file_name if len(file_name) <= room else "…" + file_name[-(room - 1) :]
    return template % {"file": shown}


@contextmanager
def open_case_table(fileobj):
    """The sheet to import as an estates reader Table: the one named 工单 (or an alias), else
    the first whose header row has the required columns (the case list's export is "Sheet1"),
    else the first sheet with anything in it, whose missing columns read() then reports."""
    with reader._open_workbook(fileobj) as workbook:
        sheets = [sheet for sheet in workbook.worksheets if hasattr(sheet, "iter_rows")]
        if not sheets:
            raise FileRejected(_("文件中没有工作表。"))
        names = {header_key(name) for name in (CASE_KIND.sheet, CASE_KIND.label, *CASE_KIND.sheet_aliases)}
        sheets.sort(key=lambda sheet: header_key(sheet.title) not in names)
        first = None
        for sheet in sheets:
            table = _table(sheet)
            if _has_required(table.headers) and table.header_row:
                yield table
                return
            if first is None or (table.header_row and not first.header_row):
                first = table  # the first sheet with anything in it
        yield first


def _table(sheet):
    rows = reader._guarded(enumerate(sheet.iter_rows(values_only=True), start=1))
    header_row, headers = reader._find_header(rows, _has_required)
    size_hint = max(sheet.max_row - header_row, 0) if sheet.max_row is not None and header_row else None
    return reader.Table(CASE_KIND, sheet.title, header_row, headers, rows, size_hint)


def _has_required(headers):
    keys = {column.key for column in map_headers(CASE_KIND, headers)[0].values()}
    return all(column.key in keys for column in CASE_KIND.required)
