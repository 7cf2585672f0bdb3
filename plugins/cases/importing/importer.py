"""Rows of the case sheet checked against the database and written in bulk.

``add`` takes one parsed row and checks what needs nothing but the row (status against close
time, the order of the times, numbers repeated in the file). ``classify`` looks every name up
in one pass per table — projects within the user's scope, buildings and units within their
project, categories of the row's kind, departments, contractors, numbers already taken — and
reports each problem with its row and column. ``write`` (inside the run's transaction) numbers
the rows that have no number, raises the number counters and inserts the cases, one "import"
timeline event and one history row per case.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from estates.importing import bulk
from estates.importing.cells import CellError
from estates.importing.context import BuildingLookup
from estates.importing.engine import ANALYZE_AFTER_ROWS
from estates.importing.history import CREATED, write_history
from estates.importing.report import NEW
from estates.importing.sheet import SheetImporter
from estates.models import Contractor, Department, Project, Unit
from estates.normalize import clean_text

from .. import rollups
from ..models import Case, CaseCounter, CaseEvent, Category, Channel, Kind, Priority, Status
from ..queues import cases_changed
from ..search import words_for
from .numbers import NumberFormat
from .schema import CASE_KIND, COLUMNS, MOMENTS, show_moment

#: Statuses a case has a close time in (services.close and services.cancel set it).
ENDED = {Status.CLOSED, Status.CANCELLED}
#: (earlier, later): a later time before the earlier one is an error on the later column.
TIME_ORDER = (
    ("registered_at", "dispatched_at"),
    ("registered_at", "completed_at"),
    ("dispatched_at", "completed_at"),
    ("registered_at", "closed_at"),
    ("completed_at", "closed_at"),
)
PATH_SEPARATOR_RE = re.compile(r"\s*[/>]\s*")


@dataclass
class Pending:
    """One good row on its way to the database."""

    row: int
    values: dict
    counter: tuple | None = None  # (kind, day) whose counter the given number raises
    seq: int = 0
    ids: dict = field(default_factory=dict)  # resolved foreign keys, attname → id
    building_code: str = ""
    emergency: bool = False  # its category is an emergency one
    number: str = ""


def _key(text):
    return PATH_SEPARATOR_RE.sub("/", clean_text(text)).lower()


class Names:
    """Rows found by what people write: a unique code first, else a name that must be unique.
    ``get`` returns the id, or raises CellError saying which it was: unknown or ambiguous."""

    def __init__(self, not_found, ambiguous):
        self.codes, self.names = {}, defaultdict(list)
        self.not_found, self.ambiguous = not_found, ambiguous

    def add(self, pk, code, *names):
        if code:
            self.codes[_key(code)] = pk
        for name in names:
            if name and pk not in self.names[_key(name)]:
                self.names[_key(name)].append(pk)

    def get(self, text):
        key = _key(text)
        if key in self.codes:
            return self.codes[key]
        found = self.names.get(key, ())
        if len(found) == 1:
            return found[0]
        message = self.ambiguous if found else self.not_found
        raise CellError(message % {"value": text})


def _chunks(values):
    values = list(values)
    size = min(2000, (connection.features.max_query_params or 2000) - 10)
    for start in range(0, len(values), size):
        yield values[start : start + size]


class CaseImporter(SheetImporter):
    kind = CASE_KIND

    def __init__(self, ctx, sheet_name, *, actor, file_name, project_ids=None):
        super().__init__(ctx, sheet_name)
        self.actor = actor
        self.file_name = file_name
        self.project_ids = project_ids  # the user's scope; None: every project
        self.formats = NumberFormat()
        self.now = timezone.now()
        self.pending = []
        self.numbers = {}  # number given in the file → its row
        self.category_info = {}  # id → (kind, emergency)
        self.ready = []

    # --- one row ---------------------------------------------------------------------------------

    def add(self, row, values):
        values = {key: values.get(key) for key in COLUMNS}  # columns the file leaves out: empty
        readings = self.formats.parse(values["number"] or "")
        problems = [
            *self._number_problems(row, values, readings), *self._state_problems(values), *self._time_problems(values)
        ]
        for key, message in problems:
            self.error(row, message, COLUMNS[key])
        if problems:
            return
        pending = Pending(row, values)
        own = [reading for reading in readings if reading.kind == values["kind"]]
        if own:
            pending.counter, pending.seq = (own[0].kind, own[0].day), own[0].seq
        self.pending.append(pending)

    def _number_problems(self, row, values, readings):
        number = values["number"]
        if number is None:
            return
        first = self.numbers.setdefault(number, row)
        if first != row:
            yield "number", _("工单号“%(number)s”与第 %(row)s 行重复。") % {"number": number, "row": first}
        kinds = {reading.kind for reading in readings}
        if kinds and values["kind"] not in kinds:
            yield "number", _("工单号“%(number)s”是%(kind)s的编号格式，与类型“%(row_kind)s”不符。") % {
                "number": number,
                "kind": "、".join(str(Kind(kind).label) for kind in sorted(kinds)),
                "row_kind": Kind(values["kind"]).label,
            }

    def _state_problems(self, values):
        status = Status(values["status"])
        if values["complaint_grade"] and values["kind"] != Kind.COMPLAINT:
            yield "complaint_grade", _("只有投诉工单可以填写投诉等级。")
        if status in ENDED and values["closed_at"] is None:
            yield "closed_at", _("状态为“%(status)s”的工单须填写关闭时间。") % {"status": status.label}
        elif status not in ENDED and values["closed_at"] is not None:
            yield "closed_at", _("状态为“%(status)s”的工单不能有关闭时间。") % {"status": status.label}

    def _time_problems(self, values):
        wrong = set()
        for earlier, later in TIME_ORDER:
            first, then = values[earlier], values[later]
            if first is None or then is None or then >= first or later in wrong:
                continue
            wrong.add(later)
            yield later, _("%(later)s（%(then)s）早于%(earlier)s（%(first)s）。") % {
                "later": COLUMNS[later].label, "then": show_moment(then),
                "earlier": COLUMNS[earlier].label, "first": show_moment(first),
            }
        for key in MOMENTS:
            if values[key] is not None and values[key] > self.now and key not in wrong:
                yield key, _("%(field)s（%(value)s）晚于现在，历史工单的时间不能在将来。") % {
                    "field": COLUMNS[key].label, "value": show_moment(values[key]),
                }

    # --- against the database -------------------------------------------------------------------

    def classify(self):
        projects = self._projects()
        lookups = {"category": self._categories(), "department": self._departments(), "contractor": self._contractors()}
        taken = self._numbers_taken()
        buildings = {}
        checked = []  # (pending, its project or None, [(column key, message)])
        for pending in self.pending:
            values, problems, project = pending.values, [], None
            try:
                project = projects.get(values["project"])
                pending.ids["project_id"] = project.pk
            except CellError as error:
                problems.append(("project", error.message))
            if project is not None and values["building"]:
                if project.pk not in buildings:
                    buildings[project.pk] = BuildingLookup(project)
                try:
                    building = buildings[project.pk].get(values["building"])
                    pending.ids["building_id"], pending.building_code = building.pk, building.code
                except CellError as error:
                    problems.append(("building", error.message))
            for key, lookup in lookups.items():
                if values[key]:
                    try:
                        pending.ids[f"{key}_id"] = lookup.get(values[key])
                    except CellError as error:
                        problems.append((key, error.message))
            problems += self._category_problems(pending)
            if values["number"] in taken:
                problems.append(("number", _("工单号“%(number)s”已存在。") % {"number": values["number"]}))
            checked.append((pending, project, problems))
        self._units(checked)
        self.ready = []
        for pending, _project, problems in checked:
            for key, message in problems:
                self.error(pending.row, message, COLUMNS[key])
            if not problems:
                self.outcome(pending.row, NEW, self.for_sample(pending.values, len(self.ready)))
                self.ready.append(pending)

    def _projects(self):
        lookup = Names(
            _("项目“%(value)s”不存在，请填写项目编码或名称。"),
            _("有多个项目名为“%(value)s”，请改填项目编码。"),
        )
        wanted = {_key(p.values["project"]) for p in self.pending}
        found = {}
        for project in Project.objects.only("id", "code", "name"):
            if _key(project.code) in wanted or _key(project.name) in wanted:
                lookup.add(project.pk, project.code, project.name)
                found[project.pk] = project
        return _ScopedProjects(lookup, found, self.project_ids)

    def _categories(self):
        lookup = Names(
            _("分类“%(value)s”不存在，请填写分类名称、“上级 / 名称”或编码。"),
            _("有多个分类名为“%(value)s”，请写成“上级 / 名称”或填写编码。"),
        )
        for pk, kind, code, name, parent, emergency in Category.objects.values_list(
            "pk", "kind", "code", "name", "parent__name", "emergency"
        ):
            lookup.add(pk, code, name, f"{parent}/{name}" if parent else "")
            self.category_info[pk] = (kind, emergency)
        return lookup

    def _category_problems(self, pending):
        category_id = pending.ids.get("category_id")
        if category_id is None:
            return []
        kind, emergency = self.category_info[category_id]
        if kind != pending.values["kind"]:
            message = _("分类“%(category)s”属于“%(kind)s”，与类型“%(row_kind)s”不符。") % {
                "category": pending.values["category"], "kind": Kind(kind).label,
                "row_kind": Kind(pending.values["kind"]).label,
            }
            return [("category", message)]
        pending.emergency = emergency
        return []

    def _departments(self):
        lookup = Names(
            _("责任部门“%(value)s”不存在，请先在“部门”中建好。"),
            _("有多个部门名为“%(value)s”，请改填部门编码。"),
        )
        for pk, code, name in Department.objects.values_list("pk", "code", "name"):
            lookup.add(pk, code, name)
        return lookup

    def _contractors(self):
        lookup = Names(
            _("施工单位“%(value)s”不存在，请先在“施工单位”中建好。"),
            _("有多个施工单位名为“%(value)s”，请写出完整名称。"),
        )
        names = {p.values["contractor"] for p in self.pending if p.values["contractor"]}
        for chunk in _chunks(names):
            for pk, name in Contractor.objects.filter(name__in=chunk).values_list("pk", "name"):
                lookup.add(pk, None, name)
        return lookup

    def _numbers_taken(self):
        taken = set()
        for chunk in _chunks(self.numbers):
            taken.update(Case.objects.filter(number__in=chunk).values_list("number", flat=True))
        return taken

    def _units(self, checked):
        """Look the units up, one query per project and chunk of labels, and add each row's
        unit problem to its problems."""
        wanted = defaultdict(set)
        for pending, project, _problems in checked:
            if project is not None:
                wanted[project.pk].update(self._unit_labels(pending))
        units = {}
        for project_id, labels in wanted.items():
            for chunk in _chunks(labels):
                rows = Unit.objects.filter(project_id=project_id, label__in=chunk)
                for label, pk, building_id in rows.values_list("label", "pk", "building_id"):
                    units.setdefault((project_id, label), []).append((pk, building_id))
        for pending, project, problems in checked:
            message = self._resolve_unit(pending, project, units) if project is not None else None
            if message:
                problems.append(("unit", message))

    def _unit_labels(self, pending):
        """The unit as written ("3-2-1502"), and within the given building ("2-1502")."""
        text = pending.values["unit"]
        if not text:
            return []
        labels = [text]
        if "building_id" in pending.ids:
            labels.append(Unit.make_label(pending.building_code, "", text))
        return labels

    def _resolve_unit(self, pending, project, units):
        text = pending.values["unit"]
        if not text:
            return None
        for label in self._unit_labels(pending):
            found = units.get((project.pk, label), ())
            if len(found) > 1:
                return _("项目“%(project)s”中有多个房号“%(unit)s”，请写出完整房号。") % {
                    "project": project.name, "unit": text}
            if found:
                unit_id, building_id = found[0]
                if pending.ids.setdefault("building_id", building_id) != building_id:
                    return _("房号“%(unit)s”不在楼栋“%(building)s”中。") % {
                        "unit": text, "building": pending.values["building"]}
                pending.ids["unit_id"] = unit_id
                return None
        return _("项目“%(project)s”中没有房号“%(unit)s”。") % {"project": project.name, "unit": text}

    # --- writing ---------------------------------------------------------------------------------

    def write(self):
        audit = self.ctx.audit()
        when = audit["when"]
        self._number(self.ready)
        cases = [bulk.new_row(Case, self._case_values(pending), when) for pending in self.ready]
        bulk.create(Case, cases)
        write_history(Case, cases, history_type=CREATED, **audit)
        events = [
            bulk.new_row(CaseEvent, self._event_values(pending, case, when), when)
            for pending, case in zip(self.ready, cases)
        ]
        if connection.vendor == "postgresql":
            # bulk.create COPYs values as they are; psycopg needs JSON wrapped to send it.
            data = CaseEvent._meta.get_field("data")
            for event in events:
                event["data"] = data.get_db_prep_save(event["data"], connection)
        bulk.create(CaseEvent, events)
        cases_changed()  # bulk writes send no post_save
        rollups.mark_pairs((case["project_id"], case["registered_at"]) for case in cases)  # nor mark
        _analyze(len(cases), (Case, Case.history.model, CaseEvent))

    def _number(self, ready):
        """Give numbers to the rows without one and raise every (kind, day) counter to at
        least the highest number the file uses, under the counters' row locks."""
        highest, unnumbered = defaultdict(int), defaultdict(list)
        for pending in ready:
            if pending.values["number"]:
                pending.number = pending.values["number"]
                if pending.counter:
                    highest[pending.counter] = max(highest[pending.counter], pending.seq)
            else:
                day = timezone.localdate(pending.values["registered_at"])
                unnumbered[(pending.values["kind"], day)].append(pending)
        keys = set(highest) | set(unnumbered)
        if not keys:
            return
        CaseCounter.objects.bulk_create(
            [CaseCounter(kind=kind, day=day) for kind, day in keys], ignore_conflicts=True, batch_size=bulk.BATCH_SIZE
        )
        counters = {}
        for chunk in _chunks({day for _kind, day in keys}):
            locked = CaseCounter.objects.select_for_update().filter(day__in=chunk)
            for pk, kind, day, last in locked.values_list("pk", "kind", "day", "last"):
                counters[(kind, day)] = (pk, last)
        raised = []
        for key in keys:
            pk, last = counters[key]
            seq = max(last, highest[key])
            for pending in unnumbered[key]:
                seq += 1
                pending.number = self.formats.format(key[0], key[1], seq)
            if seq != last:
                raised.append({"id": pk, "last": seq})
        bulk.update(CaseCounter, raised, ["last"])

    def _case_values(self, pending):
        values = pending.values
        priority = values["priority"]
        if priority is None:
            # As services.register does: an emergency category makes an emergency case.
            priority = Priority.EMERGENCY if pending.emergency else Priority.NORMAL
        return {
            **{key: None for key in ("building_id", "unit_id", "category_id", "department_id", "contractor_id")},
            **pending.ids,
            "number": pending.number,
            "kind": values["kind"],
            "channel": values["channel"] or Channel.HOTLINE,
            "priority": priority,
            "complaint_grade": values["complaint_grade"] or "",
            "status": values["status"],
            "reporter_name": values["reporter_name"],
            "reporter_mobile": values["reporter_mobile"],
            "description": values["description"],
            "search_words": words_for(values["description"]),
            "registered_at": values["registered_at"],
            "dispatched_at": values["dispatched_at"],
            "completed_at": values["completed_at"],
            "closed_at": values["closed_at"],
        }

    @cached_property
    def event_texts(self):
        """The event's lines, translated once for all rows."""
        return {
            "row": _("从文件“%(file)s”第 %(row)s 行导入的历史工单。"),
            "result": _("处理结果：%(result)s"),
            "score": _("回访评分：%(score)s 分"),
            "assignee": _("原处理人：%(assignee)s"),
        }

    def _event_values(self, pending, case, when):
        values, texts = pending.values, self.event_texts
        data = {"file": self.file_name, "row": pending.row}
        for key, value in (("result", values["result"]), ("score", values["callback_score"]),
                           ("assignee", values["assignee"])):
            if value is not None:
                data[key] = value
        lines = [texts[key] % data for key in ("row", "result", "score", "assignee") if key in data]
        return {
            "case_id": case["id"],
            "type": CaseEvent.Type.TRANSITION,
            "verb": "import",
            "from_status": "",
            "to_status": case["status"],
            "actor_type": self.actor.type,
            "actor_user_id": self.actor.user.pk if self.actor.user else None,
            "actor_name": self.actor.name[:100],
            "text": "\n".join(lines),
            "visible_to_owner": False,
            "data": data,
            "created_at": when,
        }


class _ScopedProjects:
    """Projects by code or name, refusing those outside the user's scope."""

    def __init__(self, lookup, projects, allowed_ids):
        self.lookup, self.projects, self.allowed_ids = lookup, projects, allowed_ids

    def get(self, text):
        project = self.projects[self.lookup.get(text)]
        if self.allowed_ids is not None and project.pk not in self.allowed_ids:
            raise CellError(_("您不负责项目“%(project)s”，不能导入该项目的工单。") % {"project": project.name})
        return project


def _analyze(written, models):
    """A large load leaves PostgreSQL's planner believing the tables are as small as before
    (autovacuum analyses them later): analyse them now, for the lists and queues."""
    if connection.vendor != "postgresql" or written < ANALYZE_AFTER_ROWS:
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(quote(model._meta.db_table) for model in models))
