"""Background work of the case desk, run by `manage.py db_worker --backend background`.
Thin wrappers: the work is in plugins.cases.clocks."""

from django_tasks import task

from . import clocks


@task(backend="background")
def sweep_cases():
    """The same sweep as `manage.py sweep_cases`: reminders, breaches, escalations, each once."""
    return clocks.sweep().as_dict()
