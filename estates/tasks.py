"""Background work of the estates app, run by `manage.py db_worker --backend background`.
Thin wrappers: the work is in estates.importing.jobs."""

from django_tasks import task

from .importing import jobs
from .models import ImportJob


@task(backend="background")
def validate_import(job_id):
    """Read and check a large import file; the job becomes validated or failed."""
    job = ImportJob.objects.filter(pk=job_id).select_related("project", "user").first()
    if job is not None:
        jobs.validate_job(job)
        return job.status
    return None


@task(backend="background")
def apply_import(job_id):
    """Write a confirmed large import in one transaction; the job becomes done or failed."""
    job = ImportJob.objects.filter(pk=job_id).select_related("project", "user").first()
    if job is not None:
        jobs.apply_job(job)
        return job.status
    return None
