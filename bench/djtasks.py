"""Django-side steps of the benchmarks, run as a subprocess in the benchmark database's
environment (DJANGO_SETTINGS_MODULE, DATABASE_URL, ANJU_DATA_DIR). Prints one JSON line.

    djtasks.py setup CODE NAME BUILDING_CODE...   create the project and its buildings
    djtasks.py counts CODE                          rows and history rows after an import
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()

from simple_history.utils import bulk_create_with_history  # noqa: E402

from estates.models import Building, Owner, Ownership, Project, Unit  # noqa: E402

REASON = "性能测试"


def setup(code, name, *building_codes):
    project = Project(code=code, name=name, city="杭州", hotline="400-000-5199")
    project._change_reason = REASON
    project.save()
    buildings = [
        Building(project=project, code=c, name=f"{c}号楼", floors=25) for c in building_codes
    ]
    bulk_create_with_history(buildings, Building, batch_size=500, default_change_reason=REASON)
    return {"project": project.pk, "buildings": len(buildings)}


def counts(code):
    project = Project.objects.get(code=code)
    units = Unit.objects.filter(project=project)
    ownerships = Ownership.objects.filter(unit__project=project)
    owners = Owner.objects.filter(ownerships__unit__project=project).distinct()
    answer = {
        "units": units.count(),
        "owners": owners.count(),
        "owners_total": Owner.objects.count(),
        "ownerships": ownerships.count(),
        "units_unlabelled": units.filter(label="").count(),
    }
    for key, model in (("units", Unit), ("owners", Owner), ("ownerships", Ownership)):
        history = model.history.all()
        answer[f"{key}_history"] = history.count()
        answer[f"{key}_history_created"] = history.filter(history_type="+").count()
        # Objects without a creation row: the check that matters, whatever else was written.
        answer[f"{key}_without_history"] = (
            model.objects.exclude(
                pk__in=history.filter(history_type="+").values("id")
            ).count()
        )
    return answer


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    print(json.dumps({"setup": setup, "counts": counts}[command](*args), ensure_ascii=False))
