"""The 房号 sheet: units keyed by (building, entrance, number) within the chosen project."""

from django.utils.translation import gettext as _

from estates.models import HandoverStatus, Unit

from . import bulk, schema
from .cells import CellError
from .history import CREATED, UPDATED as CHANGED, write_history
from .sheet import NEW, UNCHANGED, UPDATED, SheetImporter, changes_between, describe_changes

#: Columns whose non-empty cells overwrite the unit's field of the same name.
VALUE_COLUMNS = ("floor", "area", "layout", "delivery_batch", "handover_status", "handover_date")


def unit_key(ctx, values, building_column):
    """Resolve (building, entrance, number) of a row; raises CellError on an unknown building."""
    try:
        building = ctx.buildings.get(values["building"])
    except CellError as error:
        error.column = building_column
        raise
    return building, (building.id, values.get("entrance") or "", values["number"])


class UnitImporter(SheetImporter):
    kind = schema.UNIT_KIND

    def __init__(self, ctx, sheet_name):
        super().__init__(ctx, sheet_name)
        self.rows = {}  # key → (row number, building, wanted values, parsed cells)
        self.new, self.updated, self.changed_fields = [], [], set()

    def add(self, row, values):
        building, key = unit_key(self.ctx, values, self.kind.columns_by_key["building"])
        if key in self.rows:
            label = Unit.make_label(building.code, key[1], key[2])
            self.error(row, _("房号 %(label)s 与第 %(row)s 行重复。") % {"label": label, "row": self.rows[key][0]})
            return
        wanted = {name: values[name] for name in VALUE_COLUMNS if values.get(name) is not None}
        self.rows[key] = (row, building, wanted, self.for_sample(values, len(self.rows)))

    def classify(self):
        existing = self.ctx.existing_units
        defaults = {"project_id": self.ctx.project.id, "handover_status": HandoverStatus.PENDING}
        template = bulk.new_row(Unit, defaults, self.ctx.when)
        for key, (row, building, wanted, values) in self.rows.items():
            current = existing.get(key)
            if current is None:
                unit = {
                    **template,
                    "building_id": building.id,
                    "entrance": key[1],
                    "number": key[2],
                    "label": Unit.make_label(building.code, key[1], key[2]),
                    **wanted,
                }
                self.new.append(unit)
                self.ctx.new_units[key] = unit
                self.outcome(row, NEW, values)
                continue
            changes = changes_between(current, wanted)
            if changes:
                self.updated.append({**current, **changes})
                self.changed_fields.update(changes)
                self.outcome(row, UPDATED, values, lambda: describe_changes(self.kind, current, changes))
            else:
                self.outcome(row, UNCHANGED, values)
        self.report.count_record("units", NEW, len(self.new))
        self.report.count_record("units", UPDATED, len(self.updated))
        self.report.count_record("units", UNCHANGED, len(self.rows) - len(self.new) - len(self.updated))

    def write(self):
        audit = self.ctx.audit()
        bulk.create(Unit, self.new)
        write_history(Unit, self.new, history_type=CREATED, **audit)
        bulk.update(Unit, self.updated, sorted(self.changed_fields))
        write_history(Unit, self.updated, history_type=CHANGED, **audit)
