"""The admin's import pages: upload → preview (dry run) → confirm → done.

Registered under /admin/estates/import/ by wagtail_hooks (so Wagtail's admin-access check
applies). A staff member sees only their own jobs (superusers see all), only for projects
they serve; anything else is a 404. Importing a kind of data needs the add and change
permissions of its models.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail.admin import messages

from . import scope
from .importing import jobs, reader, schema, template
from .importing.forms import ImportForm
from .importing.report import format_error
from .models import ImportJob

RECENT_JOBS = 10
#: The job page reloads itself this often while a job runs (no JavaScript needed).
REFRESH_SECONDS = 3
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RECORD_LABELS = {
    "units": gettext_lazy("房号"),
    "owners": gettext_lazy("业主"),
    "ownerships": gettext_lazy("产权关系"),
    "contractors": gettext_lazy("施工单位"),
}


def importable_kinds(user):
    return [kind for kind in schema.KINDS if user.has_perms(kind.permissions)]


def upload(request):
    user = request.user
    kinds = importable_kinds(user)
    if not kinds:
        raise PermissionDenied
    status = 200
    if request.method == "POST":
        _check_project_in_scope(request)
        form = ImportForm(request.POST, request.FILES, user=user)
        status = 400
        if form.is_valid():
            job, status = _start(request, form)
            if job is not None:
                return redirect("estates_import_job", job.pk)
    else:
        form = ImportForm(user=user, initial={"project": request.GET.get("project")})
    recent = ImportJob.objects.filter(user=user).select_related("project")[:RECENT_JOBS]
    context = {"form": form, "kinds": kinds, "recent_jobs": recent}
    return render(request, "estates/import/upload.html", context, status=status)


def _check_project_in_scope(request):
    project_id = request.POST.get("project", "")
    if project_id.isdigit() and not scope.projects_for(request.user).filter(pk=project_id).exists():
        raise Http404


def _start(request, form):
    """Check the file and create its job; (job, 302) or (None, the error's HTTP status)."""
    upload_file = form.cleaned_data["file"]
    try:
        inspection = jobs.inspect_upload(upload_file)
    except reader.FileRejected as error:
        form.add_error("file", error.message)
        return None, error.status
    missing = jobs.missing_permissions(request.user, inspection.kinds)
    if missing:
        form.add_error(
            "file", _("您没有导入%(kinds)s的权限（需要新增和修改权限）。") % {"kinds": "、".join(map(str, missing))}
        )
        return None, 403
    job = jobs.create_job(request.user, form.cleaned_data["project"], upload_file, inspection)
    return job, 302


def job_detail(request, pk):
    job = _job_or_404(request, pk)
    if job.is_running and job.background:
        jobs.refresh_stale(job)
    return render(request, "estates/import/job.html", _job_context(request, job))


@require_POST
def job_confirm(request, pk):
    job = _job_or_404(request, pk)
    missing = jobs.missing_permissions(request.user, [k for k in job.kinds.split(",") if k])
    if missing or job.user_id != request.user.pk:  # history names the uploader: they confirm
        raise PermissionDenied
    try:
        jobs.confirm_job(job)
    except jobs.JobStateError as error:
        context = _job_context(request, job, error.message)
        return render(request, "estates/import/job.html", context, status=409)
    if job.status == ImportJob.Status.DONE:
        messages.success(request, _("导入完成。"))
    elif job.status == ImportJob.Status.FAILED:
        messages.error(request, _("导入失败，未导入任何数据。"))
    return redirect("estates_import_job", job.pk)


def template_download(request):
    if not importable_kinds(request.user):
        raise PermissionDenied
    response = HttpResponse(template.build(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, _("楼盘档案导入模板.xlsx"))
    return response


def _job_or_404(request, pk):
    job = ImportJob.objects.select_related("project", "user").filter(pk=pk).first()
    user = request.user
    if job is None or not (user.is_superuser or job.user_id == user.pk):
        raise Http404
    ids = scope.project_ids_for(user)
    if ids is not None and job.project_id not in ids:
        raise Http404
    return job


def _job_context(request, job, error=None):
    summary = job.summary or {}
    sheets = []
    for sheet in summary.get("sheets", ()):
        kind = schema.KINDS_BY_KEY[sheet["kind"]]
        sheets.append(
            {
                **sheet,
                "label": kind.label,
                "headers": [column.label for column in kind.columns],
                "samples": summary.get("samples", {}).get(sheet["kind"], ()),
            }
        )
    errors = summary.get("errors", ())
    return {
        "job": job,
        "sheets": sheets,
        "records": [
            {"label": RECORD_LABELS.get(key, key), **counts}
            for key, counts in summary.get("records", {}).items()
        ],
        "errors": [{**e, "text": format_error(e)} for e in errors],
        "hidden_errors": max(summary.get("error_count", 0) - len(errors), 0),
        "warnings": summary.get("warnings", ()),
        "can_confirm": job.status == ImportJob.Status.VALIDATED and job.user_id == request.user.pk,
        "refresh_seconds": REFRESH_SECONDS if job.is_running else None,
        "error": error,
    }


def admin_urls():
    return [
        path("estates/import/", upload, name="estates_import"),
        path("estates/import/template.xlsx", template_download, name="estates_import_template"),
        path("estates/import/<int:pk>/", job_detail, name="estates_import_job"),
        path("estates/import/<int:pk>/confirm/", job_confirm, name="estates_import_confirm"),
    ]
