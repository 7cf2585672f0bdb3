"""The shape every sheet importer has: ``add`` a parsed row, ``classify`` all rows against the
database (new / updated / unchanged), ``write`` them in bulk."""

from django.utils.translation import gettext as _

from . import schema
from .report import NEW, SAMPLE_ROWS, UNCHANGED, UPDATED


class SheetImporter:
    kind: schema.Kind

    def __init__(self, ctx, sheet_name):
        self.ctx = ctx
        self.sheet = sheet_name
        self.report = ctx.report

    def error(self, row, message, column=None):
        self.report.error(self.sheet, row, message, str(column.label) if column else None)

    def add(self, row, values):
        """Take one row's parsed values (column key → value, None when empty); raise
        cells.CellError with ``column`` set, or call ``error``, for a bad row."""
        raise NotImplementedError

    def classify(self):
        raise NotImplementedError

    def write(self):
        raise NotImplementedError

    def for_sample(self, values, rows_so_far):
        """The parsed cells of a row, kept only for the first rows (the preview's samples):
        holding them for 100,000 rows would cost hundreds of MB."""
        return values if rows_so_far < SAMPLE_ROWS else None

    def outcome(self, row, action, values, describe=None):
        """Count the row; keep it as a sample while the preview wants more. ``describe`` returns
        the change lines, and is only called for a sample (translating is not free)."""
        self.report.count_row(self.kind.key, action)
        if values is not None and self.report.wants_sample(self.kind.key):
            changes = describe() if describe else ()
            self.report.sample(self.kind.key, row, action, schema.display_row(self.kind, values), changes)


def changes_between(current, wanted):
    """{field: new value} for the wanted values that differ from ``current`` (a dict)."""
    return {key: value for key, value in wanted.items() if current[key] != value}


def describe_changes(kind, current, changes):
    """["建筑面积：89.50 → 90.00", …] for the preview; ``current`` holds the old values."""
    lines = []
    for key, value in changes.items():
        column = kind.columns_by_key[key]
        lines.append(
            _("%(field)s：%(old)s → %(new)s")
            % {
                "field": column.label,
                "old": schema.display(column, current.get(key)) or _("（空）"),
                "new": schema.display(column, value) or _("（空）"),
            }
        )
    return lines


__all__ = ["SheetImporter", "changes_between", "describe_changes", "NEW", "UPDATED", "UNCHANGED"]
