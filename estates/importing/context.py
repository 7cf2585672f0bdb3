"""What every sheet's importer shares during one run: the project, the acting user, the report,
the project's buildings and units, and the audit details of the writes."""

import re
from functools import cached_property

from django.utils import timezone
from django.utils.translation import gettext as _

from estates.models import Building, Unit
from estates.normalize import clean_text

from .cells import CellError

BUILDING_SUFFIX_RE = re.compile(r"(号楼|号|栋|幢|座|楼|#)$")
UNIT_FIELDS = [f.attname for f in Unit._meta.concrete_fields]


class Context:
    def __init__(self, project, report, user=None, allowed_projects=None):
        self.project = project
        self.report = report
        self.user = user
        #: Projects a contractor row may name (the user's scope); None: any project.
        self.allowed_projects = allowed_projects
        #: (building id, entrance, number) → Unit created by this run's units sheet.
        self.new_units = {}
        # Set again by the engine just before writing.
        self.reason = ""
        self.when = timezone.now()

    def audit(self):
        """Who, why and when, for the history rows."""
        user_id = self.user.pk if self.user is not None else None
        return {"user_id": user_id, "reason": self.reason, "when": self.when}

    @cached_property
    def buildings(self):
        return BuildingLookup(self.project)

    @cached_property
    def existing_units(self):
        """(building id, entrance, number) → the unit's field values as a dict, for every unit
        of the project; one query."""
        rows = Unit.objects.filter(project=self.project).values_list(*UNIT_FIELDS)
        units = {}
        for values in rows:  # not .iterator(): a server-side cursor gets a slow plan on PostgreSQL
            unit = dict(zip(UNIT_FIELDS, values))
            units[(unit["building_id"], unit["entrance"], unit["number"])] = unit
        return units


class BuildingLookup:
    """A building of the project by what people write: its code ("3"), its name ("3号楼") or
    the code with a suffix ("3栋", "3#")."""

    def __init__(self, project):
        self.project = project
        self.by_text = {}
        buildings = list(Building.objects.filter(project=project))
        for building in buildings:
            self.by_text.setdefault(clean_text(building.name).lower(), building)
        for building in buildings:  # codes win over names
            self.by_text[clean_text(building.code).lower()] = building

    def get(self, text):
        key = text.lower()
        building = self.by_text.get(key) or self.by_text.get(BUILDING_SUFFIX_RE.sub("", key))
        if building is None:
            raise CellError(
                _("楼栋“%(building)s”在项目“%(project)s”中不存在，请先在“楼栋”中建好。")
                % {"building": text, "project": self.project.name}
            )
        return building
