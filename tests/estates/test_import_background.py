"""Files above ESTATES_IMPORT_BACKGROUND_ROWS are validated and applied by the "background"
task backend; the job page shows progress and refreshes itself without JavaScript.

The worker runs in-process (``db_worker --batch``) inside the test's transaction: its
``close_old_connections()`` is switched off, since closing the connection there would end the
test's transaction; tasks are enqueued by on-commit callbacks, run here as they are captured.
Staying out of TransactionTestCase keeps the database (content types, the migrations' data)
intact for the tests that follow."""

from unittest import mock

import pytest
from django.core.management import call_command
from django.urls import reverse

from estates.models import ImportJob, Unit

from .test_import_helpers import (  # noqa: F401 (fixtures)
    clerk,
    owner_row,
    owners_sheet,
    project,
    unit_row,
    units_sheet,
    upload,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db
REFRESH = '<meta http-equiv="refresh"'


def run_worker():
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("db_worker", "--backend", "background", "--batch", "--no-startup-delay", verbosity=0)


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST, then run the on-commit callbacks (enqueueing a task) as a real commit would."""

    def post(url, data=None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data or {})

    return post


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


@pytest.fixture
def small_threshold(settings):
    settings.ESTATES_IMPORT_BACKGROUND_ROWS = 3


def large_file():
    units = [unit_row(number=str(1500 + n)) for n in range(1, 6)]
    owners = [owner_row(number=str(1500 + n), name=f"业主{n}", mobile=f"1390000000{n}") for n in range(1, 6)]
    return xlsx_bytes({"房号": units_sheet(*units), "业主": owners_sheet(*owners)})


def test_large_file_goes_through_the_worker(clerk_client, clerk, project, small_threshold, post):
    response = post("/admin/estates/import/", {"project": project.pk, "file": upload(large_file())})

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert job.background and job.status == ImportJob.Status.UPLOADED and job.total_rows == 10 and job.task_id
    waiting = clerk_client.get(response.url).content.decode()
    assert REFRESH in waiting and "后台处理" in waiting

    run_worker()

    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALIDATED, job.summary
    assert job.processed_rows == job.total_rows == 10
    preview = clerk_client.get(response.url).content.decode()
    assert REFRESH not in preview and "确认导入" in preview
    assert Unit.objects.count() == 0

    post(reverse("estates_import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.IMPORTING
    assert REFRESH in clerk_client.get(response.url).content.decode()
    assert Unit.objects.count() == 0

    run_worker()

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.finished_at and not job.file
    assert Unit.objects.count() == 5
    assert Unit.objects.first().history.get().history_user == clerk
    assert "导入结果" in clerk_client.get(response.url).content.decode()


def test_a_crashed_task_fails_the_job(clerk_client, project, small_threshold, post):
    response = post("/admin/estates/import/", {"project": project.pk, "file": upload(large_file())})

    with mock.patch("estates.tasks.jobs.validate_job", side_effect=MemoryError):
        run_worker()

    page = clerk_client.get(response.url).content.decode()
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert "后台任务意外中断" in page and REFRESH not in page
