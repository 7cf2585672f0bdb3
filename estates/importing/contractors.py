"""The 施工单位 sheet: contractors keyed by name. Trades and projects are only ever added (an
import never takes a contractor off a project another team serves); the chosen project is
always among the contractor's projects."""

from functools import cached_property

from django.utils.translation import gettext as _

from estates.models import Contractor, Project, Trade

from . import bulk, schema
from .cells import CellError
from .history import CREATED, UPDATED as CHANGED, write_history
from .sheet import NEW, UNCHANGED, UPDATED, SheetImporter, changes_between, describe_changes

VALUE_COLUMNS = ("contact_name", "contact_mobile", "warranty_deposit")


class ContractorImporter(SheetImporter):
    kind = schema.CONTRACTOR_KIND

    def __init__(self, ctx, sheet_name):
        super().__init__(ctx, sheet_name)
        self.rows = {}  # name → (row, wanted fields, trade ids, project ids, values)
        self.new, self.updated, self.changed_fields = [], [], set()
        self.links = {"trades": [], "projects": []}  # (contractor row, id) to add

    @cached_property
    def trades(self):
        found = {}
        for trade in Trade.objects.all():
            found[trade.code.lower()] = trade
            found[trade.name.lower()] = trade
        return found

    @cached_property
    def projects(self):
        queryset = self.ctx.allowed_projects
        if queryset is None:
            queryset = Project.objects.all()
        found = {}
        for project in queryset:
            found[project.code.lower()] = project
            found[project.name.lower()] = project
        return found

    def add(self, row, values):
        name = values["name"]
        if name in self.rows:
            self.error(row, _("单位名称“%(name)s”与第 %(row)s 行重复。") % {"name": name, "row": self.rows[name][0]})
            return
        trade_ids = self._resolve(
            values.get("trades"), self.trades, "trades", _("工种“%(name)s”不存在，可填：%(choices)s。")
        )
        project_ids = self._resolve(
            values.get("projects"), self.projects, "projects", _("项目“%(name)s”不存在或不在您的服务范围内。")
        )
        project_ids.add(self.ctx.project.id)
        wanted = {key: values[key] for key in VALUE_COLUMNS if values.get(key) is not None}
        self.rows[name] = (row, wanted, trade_ids, project_ids, self.for_sample(values, len(self.rows)))

    def _resolve(self, names, known, column_key, message):
        ids = set()
        for name in names or ():
            found = known.get(name.lower())
            if found is None:
                choices = "、".join(dict.fromkeys(t.name for t in known.values()))
                column = self.kind.columns_by_key[column_key]
                raise CellError(message % {"name": name, "choices": choices}, column)
            ids.add(found.id)
        return ids

    def classify(self):
        existing, trades, projects = self._existing()
        template = bulk.new_row(Contractor, {}, self.ctx.when)
        for name, (row, wanted, trade_ids, project_ids, values) in self.rows.items():
            current = existing.get(name)
            if current is None:
                obj = {**template, "name": name, **wanted}
                self.new.append(obj)
                self._link(obj, trade_ids, project_ids)
                self.outcome(row, NEW, values)
                continue
            changes = changes_between(current, wanted)
            new_trades = trade_ids - trades.get(current["id"], set())
            new_projects = project_ids - projects.get(current["id"], set())
            if not (changes or new_trades or new_projects):
                self.outcome(row, UNCHANGED, values)
                continue
            obj = {**current, **changes}
            self.updated.append(obj)
            self.changed_fields.update(changes)
            self._link(obj, new_trades, new_projects)
            self.outcome(
                row,
                UPDATED,
                values,
                lambda: describe_changes(self.kind, current, changes)
                + self._describe_added(new_trades, new_projects),
            )
        self.report.count_record("contractors", NEW, len(self.new))
        self.report.count_record("contractors", UPDATED, len(self.updated))
        self.report.count_record("contractors", UNCHANGED, len(self.rows) - len(self.new) - len(self.updated))

    def _existing(self):
        names = list(self.rows)
        existing = {row["name"]: row for row in bulk.select_in(Contractor, "name", names)}
        ids = [c["id"] for c in existing.values()]
        trades, projects = {}, {}
        for found, field in ((trades, "trade_id"), (projects, "project_id")):
            through = getattr(Contractor, field[:-3] + "s").through
            for contractor_id, other_id in through.objects.filter(contractor_id__in=ids).values_list(
                "contractor_id", field
            ):
                found.setdefault(contractor_id, set()).add(other_id)
        return existing, trades, projects

    def _link(self, obj, trade_ids, project_ids):
        self.links["trades"] += [(obj, pk) for pk in sorted(trade_ids)]
        self.links["projects"] += [(obj, pk) for pk in sorted(project_ids)]

    def _describe_added(self, trade_ids, project_ids):
        lines = []
        by_id = {t.id: t.name for t in self.trades.values()}
        if trade_ids:
            names = "、".join(sorted(by_id[pk] for pk in trade_ids))
            lines.append(_("工种：新增 %(names)s") % {"names": names})
        if project_ids:
            by_id = {p.id: p.name for p in self.projects.values()}
            by_id[self.ctx.project.id] = self.ctx.project.name
            names = "、".join(sorted(by_id[pk] for pk in project_ids))
            lines.append(_("服务项目：新增 %(names)s") % {"names": names})
        return lines

    def write(self):
        audit = self.ctx.audit()
        bulk.create(Contractor, self.new)
        bulk.update(Contractor, self.updated, sorted(self.changed_fields))
        for field_name, target in (("trades", "trade_id"), ("projects", "project_id")):
            through = getattr(Contractor, field_name).through
            links = [through(contractor_id=row["id"], **{target: pk}) for row, pk in self.links[field_name]]
            through.objects.bulk_create(links, batch_size=bulk.BATCH_SIZE, ignore_conflicts=True)
        write_history(Contractor, self.new, history_type=CREATED, **audit)
        write_history(Contractor, self.updated, history_type=CHANGED, **audit)
