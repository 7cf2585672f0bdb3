"""One import run: read every row, classify it against the database, and — when asked and
nothing is wrong — write it all in one transaction.

    run = ImportRun(project, user=user, allowed_projects=scope.projects_for(user))
    run.read(tables)          # parse; no database writes
    run.preview()             # or: run.apply(reason) — all or nothing
    run.report.as_dict()
"""

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from estates.models import Contractor, Owner, Ownership, Unit

from . import schema
from .cells import CellError
from .context import Context
from .contractors import ContractorImporter
from .owners import OwnerImporter
from .report import Report
from .units import UnitImporter

#: Units first: an owner row may point at a unit created by the same file.
IMPORTERS = {
    schema.UNITS: UnitImporter,
    schema.OWNERS: OwnerImporter,
    schema.CONTRACTORS: ContractorImporter,
}
PROGRESS_EVERY = 2000
ANALYZE_AFTER_ROWS = 10_000
#: PostgreSQL advisory lock key: one import writes at a time (owners are shared by projects).
IMPORT_LOCK_KEY = 0x616E6A75  # "anju"


class ImportBlocked(Exception):
    """apply() was called on a run with errors; nothing was written."""


class ImportRun:
    def __init__(self, project, *, user=None, allowed_projects=None, progress=None):
        self.report = Report()
        self.ctx = Context(project, self.report, user, allowed_projects)
        self.importers = {}
        self.progress = progress
        self.rows_read = 0

    # --- reading -------------------------------------------------------------------------------

    def read(self, tables):
        if not tables:
            self.report.error(None, None, _("找不到可导入的工作表：工作表须命名为“房号”“业主”或“施工单位”。"))
            return
        for table in tables:
            self._read_table(table)
        if self.report.ok and self.rows_read == 0:
            self.report.error(None, None, _("文件中没有可导入的数据行。"))

    def _read_table(self, table):
        report, kind = self.report, table.kind
        if kind is None:
            expected = "；".join(
                "%s：%s" % (k.label, "、".join(str(c.label) for c in k.required)) for k in schema.KINDS
            )
            message = _("无法识别文件内容，表头须包含以下之一的必填列——%(expected)s。")
            report.error(table.name, None, message % {"expected": expected})
            return
        if kind.key in self.importers:
            message = _("与工作表“%(other)s”重复：每种数据只能有一个工作表。")
            report.error(table.name, None, message % {"other": self.importers[kind.key].sheet})
            return
        if not table.header_row:
            report.warn(_("工作表“%(name)s”是空的，已跳过。") % {"name": table.name})
            return
        mapping, unknown, twice = schema.map_headers(kind, table.headers)
        keys = {column.key for column in mapping.values()}
        missing = [str(c.label) for c in kind.required if c.key not in keys]
        if missing:
            message = _("缺少必填列：%(columns)s。") % {"columns": "、".join(missing)}
            report.error(table.name, table.header_row, message)
            return
        if twice:
            message = _("列“%(columns)s”出现了不止一次。") % {"columns": "、".join(str(c.label) for c in twice)}
            report.error(table.name, table.header_row, message)
            return
        if unknown:
            message = _("工作表“%(name)s”中的列 %(columns)s 无法识别，已忽略。")
            report.warn(message % {"name": table.name, "columns": "、".join(f"“{h}”" for h in unknown)})
        importer = IMPORTERS[kind.key](self.ctx, table.name)
        self.importers[kind.key] = importer
        report.add_sheet(kind, table.name)
        rows = self._read_rows(table, importer, mapping)
        if rows == 0:
            del report.sheets[kind.key]
            del self.importers[kind.key]
            report.warn(_("工作表“%(name)s”没有数据行，已跳过。") % {"name": table.name})

    def _read_rows(self, table, importer, mapping):
        kind, report, sheet = table.kind, self.report, table.name
        columns = [(index, column, str(column.label)) for index, column in mapping.items()]
        required = [(column.key, str(column.label)) for column in kind.required]
        example = _example_values(kind, mapping)
        count = 0
        for number, values in table.rows:
            if _is_blank(values):
                continue
            cells, bad = {}, False
            width = len(values)
            for index, column, label in columns:
                try:
                    cells[column.key] = column.parse(values[index] if index < width else None, label)
                except CellError as error:
                    report.error(sheet, number, error.message, label)
                    bad = True
            if cells == example:
                report.warn(_("工作表“%(name)s”第 %(row)s 行是模板示例，已跳过。") % {"name": sheet, "row": number})
                continue
            count += 1
            self._tick()
            if bad:
                continue
            empty = [label for key, label in required if cells.get(key) is None]
            if empty:
                report.error(sheet, number, _("缺少必填项：%(columns)s。") % {"columns": "、".join(empty)})
                continue
            try:
                importer.add(number, cells)
            except CellError as error:
                report.error(sheet, number, error.message, str(error.column.label) if error.column else None)
        report.sheets[kind.key]["rows"] = count
        return count

    def _tick(self):
        self.rows_read += 1
        if self.progress is not None and self.rows_read % PROGRESS_EVERY == 0:
            self.progress(self.rows_read)

    # --- classifying and writing ---------------------------------------------------------------

    def _classify(self):
        for importer in self._ordered():
            importer.classify()

    def _ordered(self):
        return [self.importers[key] for key in IMPORTERS if key in self.importers]

    def preview(self):
        """Classify every row against the database; write nothing."""
        if self.importers:
            self._classify()
        return self.report

    def apply(self, reason):
        """Classify and write everything in one transaction, or nothing at all."""
        if not self.report.ok or not self.importers:
            raise ImportBlocked
        self.ctx.reason, self.ctx.when = reason, timezone.now()
        with transaction.atomic():
            _serialise_imports()
            self._classify()
            if not self.report.ok:
                raise ImportBlocked
            for importer in self._ordered():
                importer.write()
            _refresh_statistics(self.report)
        return self.report


def _is_blank(values):
    for value in values:
        if value is not None and (not isinstance(value, str) or value.strip()):
            return False
    return True


def _serialise_imports():
    """Two imports classifying at once could both create the same owner. SQLite's IMMEDIATE
    transactions already run one writer at a time; on PostgreSQL take a transaction lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_KEY])


def _refresh_statistics(report):
    """After a large load, PostgreSQL's planner still believes the tables are as small as they
    were (autovacuum analyses them later): analyse them now, for the next import and the lists."""
    written = sum(c["new"] + c["updated"] for c in report.records.values())
    if connection.vendor != "postgresql" or written < ANALYZE_AFTER_ROWS:
        return
    tables = {model._meta.db_table for model in (Unit, Owner, Ownership, Contractor)}
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in sorted(tables)))


def _example_values(kind, mapping):
    """The template's example row as parsed cells, for the columns present: a row equal to it
    is the example the clerk forgot to delete."""
    values = {}
    for column in mapping.values():
        try:
            values[column.key] = column.parse(column.example, str(column.label))
        except CellError:
            return None
    return values
