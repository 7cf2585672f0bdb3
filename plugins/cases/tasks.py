"""Background work of the case desk, run by `manage.py db_worker --backend background`.
Thin wrappers: the work is in plugins.cases.clocks and plugins.cases.digest."""

from django_tasks import task

from . import clocks, digest


@task(backend="background")
def sweep_cases():
    """The same sweep as `manage.py sweep_cases`: reminders, breaches, escalations, each once;
    then the daily complaint digest, whose result is added under "digest" when it did something."""
    result = clocks.sweep().as_dict()
    work = digest.due_work()
    if work:
        result["digest"] = work.as_dict()
    return result
