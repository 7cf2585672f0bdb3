"""The 业主 sheet: one row per owner and unit. Owners are matched by the hash of their ID number
when one is given (falling back to an owner with the same name and mobile and no ID on file),
else by name and mobile; the ownership is the current (end is null) one of owner and unit."""

from django.utils.translation import gettext as _

from estates.models import Owner, Ownership, Unit

from . import bulk, schema
from .history import CREATED, UPDATED as CHANGED, write_history
from .sheet import NEW, UNCHANGED, UPDATED, SheetImporter, changes_between, describe_changes
from .units import unit_key

OWNERSHIP_FIELDS = [f.attname for f in Ownership._meta.concrete_fields]


class OwnerSlot:
    """One owner as this file describes it, and what the database holds for them."""

    __slots__ = ("key", "row", "wanted", "current", "obj", "changes")
    # current: the owner's row in the database (dict) or None; obj: the row to insert or
    # update (dict) or None when nothing changes.

    def __init__(self, key, row, wanted):
        self.key, self.row, self.wanted = key, row, wanted
        self.current = self.obj = None
        self.changes = {}


class OwnerImporter(SheetImporter):
    kind = schema.OWNER_KIND

    def __init__(self, ctx, sheet_name):
        super().__init__(ctx, sheet_name)
        self.slots = {}  # ("id", hash) | ("nm", name, mobile) → OwnerSlot
        self.rows = []  # (row number, slot, unit key, unit label, ownership values, values)
        self.new_owners, self.updated_owners, self.owner_fields = [], [], set()
        self.new_links, self.updated_links, self.link_fields = [], [], set()
        self.unchanged_links = 0

    # --- parse -----------------------------------------------------------------------------

    def add(self, row, values):
        building, ukey = unit_key(self.ctx, values, self.kind.columns_by_key["building"])
        label = Unit.make_label(building.code, ukey[1], ukey[2])
        wanted = {"name": values["name"], "mobile": values["mobile"]}
        if values.get("email"):
            wanted["email"] = values["email"]
        if values.get("id_number"):
            wanted["id_hash"], wanted["id_last4"] = values["id_number"]
            key = ("id", wanted["id_hash"])
        else:
            key = ("nm", wanted["name"], wanted["mobile"])
        slot = self.slots.get(key)
        if slot is None:
            slot = self.slots[key] = OwnerSlot(key, row, wanted)
        elif not self._same_person(row, slot, wanted):
            return
        link = {name: values[name] for name in ("start", "is_primary") if values.get(name) is not None}
        self.rows.append((row, slot, ukey, label, link, self.for_sample(values, len(self.rows))))

    def _same_person(self, row, slot, wanted):
        for name in ("name", "mobile", "email"):
            if name in wanted and name in slot.wanted and wanted[name] != slot.wanted[name]:
                column = self.kind.columns_by_key[name]
                self.error(
                    row,
                    _("与第 %(row)s 行是同一业主，但%(field)s不同：“%(old)s”与“%(new)s”。")
                    % {"row": slot.row, "field": column.label, "old": slot.wanted[name], "new": wanted[name]},
                    column,
                )
                return False
        if "email" in wanted:
            slot.wanted.setdefault("email", wanted["email"])
        return True

    # --- classify --------------------------------------------------------------------------

    def classify(self):
        self._match_owners()
        existing_units = self.ctx.existing_units
        links = self._current_links()
        link_template = bulk.new_row(Ownership, {}, self.ctx.when)
        seen = {}  # (owner, unit key) → row: rows naming one person two ways, same unit
        for row, slot, ukey, label, link, values in self.rows:
            unit = existing_units.get(ukey)
            if unit is None and ukey not in self.ctx.new_units:
                self.error(row, _("房号 %(label)s 不存在：请先建好该房号，或在同一文件的“房号”工作表中导入。") % {"label": label})
                continue
            person = ("db", slot.current["id"]) if slot.current else ("new", id(slot.obj))
            if (person, ukey) in seen:
                message = _("业主“%(name)s”与房号 %(label)s 的关系与第 %(row)s 行重复。") % {
                    "name": slot.wanted["name"],
                    "label": label,
                    "row": seen[(person, ukey)],
                }
                self.error(row, message)
                continue
            seen[(person, ukey)] = row
            current = links.get((slot.current["id"], unit["id"])) if slot.current and unit else None
            diff = {}
            if current is None:
                new_link = {**link_template, "is_primary": True, **link}
                self.new_links.append((new_link, slot, ukey))
                action = NEW
            else:
                diff = changes_between(current, link)
                if diff:
                    self.updated_links.append({**current, **diff})
                    self.link_fields.update(diff)
                else:
                    self.unchanged_links += 1
                action = UPDATED if diff else UNCHANGED
            if slot.current is None:
                action = NEW
            elif slot.changes and action == UNCHANGED:
                action = UPDATED
            self.outcome(
                row,
                action,
                values,
                lambda: self._describe_owner(slot) + describe_changes(self.kind, current or {}, diff),
            )
        self._count()

    def _match_owners(self):
        self._owner_template = bulk.new_row(Owner, {}, self.ctx.when)
        hashes = [key[1] for key in self.slots if key[0] == "id"]
        mobiles = list({slot.wanted["mobile"] for slot in self.slots.values()})
        by_hash, by_name_mobile = {}, {}
        for owner in bulk.select_in(Owner, "id_hash", hashes):
            by_hash[owner["id_hash"]] = owner
        for owner in bulk.select_in(Owner, "mobile", mobiles):
            by_name_mobile.setdefault((owner["name"], owner["mobile"]), []).append(owner)
        for candidates in by_name_mobile.values():
            candidates.sort(key=lambda owner: owner["id"])
        bound = {}  # owner id → the slot it is bound to
        for slot in self.slots.values():
            if slot.key[0] != "id":
                continue
            owner = by_hash.get(slot.key[1])
            if owner is None:
                # An owner first imported without an ID number gets it now.
                pair = (slot.wanted["name"], slot.wanted["mobile"])
                candidates = by_name_mobile.get(pair, ())
                owner = next((o for o in candidates if not o["id_hash"] and o["id"] not in bound), None)
            self._bind(slot, owner, bound)
        named = {(s.wanted["name"], s.wanted["mobile"]): s for s in self.slots.values() if s.key[0] == "id"}
        for slot in self.slots.values():
            if slot.key[0] != "nm":
                continue
            twin = named.get(slot.key[1:])
            if twin is None:
                owner = next(iter(by_name_mobile.get(slot.key[1:], ())), None)
                twin = bound.get(owner["id"]) if owner is not None else None
            if twin is not None:
                slot.current, slot.obj = twin.current, twin.obj  # the same person as another row
            else:
                self._bind(slot, owner, bound)

    def _bind(self, slot, owner, bound):
        if owner is None:
            slot.obj = {**self._owner_template, **slot.wanted}
            self.new_owners.append(slot.obj)
            return
        bound[owner["id"]] = slot
        slot.current = owner
        slot.changes = changes_between(owner, slot.wanted)
        if slot.changes:
            slot.obj = {**owner, **slot.changes}
            self.updated_owners.append(slot.obj)
            self.owner_fields.update(slot.changes)

    def _describe_owner(self, slot):
        if not slot.changes:
            return []
        current = dict(slot.current)
        changes = {key: value for key, value in slot.changes.items() if key in ("name", "mobile", "email")}
        if "id_hash" in slot.changes:
            current["id_number"] = (current["id_hash"], current["id_last4"]) if current["id_hash"] else None
            changes["id_number"] = (slot.wanted["id_hash"], slot.wanted["id_last4"])
        return describe_changes(self.kind, current, changes)

    def _current_links(self):
        current = Ownership.objects.filter(unit__project=self.ctx.project, end__isnull=True)
        rows = current.values_list(*OWNERSHIP_FIELDS)
        links = {}
        for values in rows:  # not .iterator(): a server-side cursor gets a slow plan on PostgreSQL
            link = dict(zip(OWNERSHIP_FIELDS, values))
            links[(link["owner_id"], link["unit_id"])] = link
        return links

    def _count(self):
        count = self.report.count_record
        count("owners", NEW, len(self.new_owners))
        count("owners", UPDATED, len(self.updated_owners))
        matched = {slot.current["id"] for slot in self.slots.values() if slot.current is not None}
        count("owners", UNCHANGED, len(matched) - len(self.updated_owners))
        count("ownerships", NEW, len(self.new_links))
        count("ownerships", UPDATED, len(self.updated_links))
        count("ownerships", UNCHANGED, self.unchanged_links)

    # --- write -----------------------------------------------------------------------------

    def write(self):
        audit = self.ctx.audit()
        bulk.create(Owner, self.new_owners)
        write_history(Owner, self.new_owners, history_type=CREATED, **audit)
        bulk.update(Owner, self.updated_owners, sorted(self.owner_fields))
        write_history(Owner, self.updated_owners, history_type=CHANGED, **audit)
        existing_units, new_units = self.ctx.existing_units, self.ctx.new_units
        created = []
        for link, slot, ukey in self.new_links:
            link["owner_id"] = slot.current["id"] if slot.current is not None else slot.obj["id"]
            unit = existing_units.get(ukey) or new_units[ukey]
            link["unit_id"] = unit["id"]
            created.append(link)
        bulk.create(Ownership, created)
        write_history(Ownership, created, history_type=CREATED, **audit)
        bulk.update(Ownership, self.updated_links, sorted(self.link_fields))
        write_history(Ownership, self.updated_links, history_type=CHANGED, **audit)
