"""What an import run found: counts per sheet and per record type, row errors, warnings and a
sample of rows. Stored as ImportJob.summary (JSON) and shown by the preview and the command."""

from django.utils.translation import gettext as _

#: Errors kept for display; all of them are counted.
MAX_ERRORS = 200
#: Rows per sheet shown in the preview.
SAMPLE_ROWS = 10

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"
ACTIONS = (NEW, UPDATED, UNCHANGED)


class Report:
    def __init__(self):
        self.sheets = {}  # kind key → {"kind", "name", "rows", "new", "updated", "unchanged"}
        self.records = {}  # "units" | "owners" | "ownerships" | "contractors" → counts
        self.errors = []
        self.error_count = 0
        self.warnings = []
        self.samples = {}  # kind key → [{"row", "action", "cells", "changes"}]

    @property
    def ok(self):
        return self.error_count == 0

    def add_sheet(self, kind, name):
        self.sheets[kind.key] = {
            "kind": kind.key,
            "name": name,
            "rows": 0,
            NEW: 0,
            UPDATED: 0,
            UNCHANGED: 0,
            "errors": 0,
        }

    def error(self, sheet, row, message, column=None):
        self.error_count += 1
        for counts in self.sheets.values():
            if counts["name"] == sheet:
                counts["errors"] += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"sheet": sheet, "row": row, "column": column, "message": str(message)})

    def warn(self, message):
        self.warnings.append(str(message))

    def count_row(self, kind_key, action):
        self.sheets[kind_key][action] += 1

    def count_record(self, record_type, action, n=1):
        counts = self.records.setdefault(record_type, {NEW: 0, UPDATED: 0, UNCHANGED: 0})
        counts[action] += n

    def wants_sample(self, kind_key):
        return len(self.samples.get(kind_key, ())) < SAMPLE_ROWS

    def sample(self, kind_key, row, action, cells, changes=()):
        self.samples.setdefault(kind_key, []).append(
            {"row": row, "action": action, "cells": [str(c) for c in cells], "changes": list(changes)}
        )

    def counts(self):
        """{"units": {"new": n, "updated": n, "unchanged": n}, …} per sheet imported."""
        return {key: {a: sheet[a] for a in ACTIONS} for key, sheet in self.sheets.items()}

    def as_dict(self):
        self.errors.sort(key=lambda e: (e["sheet"] or "", e["row"] or 0))
        return {
            "sheets": list(self.sheets.values()),
            "records": self.records,
            "errors": self.errors,
            "error_count": self.error_count,
            "warnings": self.warnings,
            "samples": self.samples,
        }

    def lines(self):
        """The report as plain lines of Chinese text (for the command)."""
        for sheet in self.sheets.values():
            line = _("工作表“%(name)s”：%(rows)s 行，新增 %(new)s，更新 %(updated)s，不变 %(unchanged)s") % sheet
            if sheet["errors"]:
                line += _("，错误 %(errors)s") % sheet
            yield line
        for warning in self.warnings:
            yield _("提示：%(message)s") % {"message": warning}
        for error in sorted(self.errors, key=lambda e: (e["sheet"] or "", e["row"] or 0)):
            yield format_error(error)
        if self.error_count > len(self.errors):
            yield _("……另有 %(n)s 个错误未列出。") % {"n": self.error_count - len(self.errors)}


def format_error(error):
    if error.get("row"):
        return _("错误：“%(sheet)s”第 %(row)s 行：%(message)s") % error
    if error.get("sheet"):
        return _("错误：“%(sheet)s”：%(message)s") % error
    return _("错误：%(message)s") % error
