"""The admin's import of historic cases: upload an .xlsx, check it (dry run: every row's errors,
nothing written) or import it (all rows in one transaction, or none).

A large file (more rows than ESTATES_IMPORT_BACKGROUND_ROWS, or over 1 MB when the file does not
say how many rows it has) goes to the background worker; its page refreshes itself until the
result is there. Registered under /admin/cases/import/ by admin_hooks (so Wagtail's
admin-access check applies). Needs cases.add_case; the rows may name only projects the user
serves (estates.scope).
"""

import logging

from django import forms
from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import TaskResultStatus
from django_tasks.exceptions import TaskException
from wagtail.admin import messages

from estates.importing.jobs import COUNT_ROWS_BELOW_BYTES
from estates.importing.reader import FileRejected
from estates.importing.report import format_error

from .importing import run as case_import
from .importing import tasks, template
from .importing.schema import CASE_KIND

logger = logging.getLogger(__name__)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DRY_RUN, COMMIT = "dry_run", "commit"
#: The result page reloads itself this often while the worker runs (no JavaScript needed).
REFRESH_SECONDS = 3


class CaseImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Excel 文件"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("Excel（.xlsx）文件，最大 %(max)s MB。") % {
            "max": settings.ESTATES_IMPORT_MAX_BYTES // (1024 * 1024)
        }


def may_import(user):
    return user.has_perms(CASE_KIND.permissions)


def _refused(request):
    # A 403 page rather than PermissionDenied, which Wagtail turns into a redirect home.
    return render(request, "cases/admin/import_denied.html", status=403)


def import_cases(request):
    """GET: the form. POST: a dry run (action=dry_run, the default) or the import
    (action=commit); a file with any error is answered 400 with its errors, a written import
    redirects back here with a message, a large file to its background result page."""
    if not may_import(request.user):
        return _refused(request)
    if request.method != "POST":
        return _page(request, CaseImportForm())
    form = CaseImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form, status=400)
    upload = form.cleaned_data["file"]
    dry_run = request.POST.get("action") != COMMIT
    try:
        case_import.check_upload(upload)
        if _is_large(upload):
            return redirect("cases_import_result", tasks.enqueue(upload, request.user, dry_run))
        run = case_import.import_cases(upload, upload.name, user=request.user, dry_run=dry_run)
    except FileRejected as error:
        form.add_error("file", error.message)
        return _page(request, form, status=error.status)
    except DatabaseError:
        # Someone registered a case with the same number meanwhile, or the like: rolled back.
        logger.exception("Case import of %s failed while writing", upload.name)
        form.add_error(None, _("写入时数据库出错（可能有人同时修改了相同的数据），未导入任何数据，请重新导入。"))
        return _page(request, form, status=409)
    return _finish(request, form, run.report.as_dict(), run.written, upload.name, dry_run)


def _is_large(upload):
    with case_import.open_case_table(upload) as table:
        rows = table.size_hint
    upload.seek(0)
    if rows is None:  # the sheet does not say (files written by openpyxl, e.g. the case list's export)
        return upload.size > COUNT_ROWS_BELOW_BYTES
    return rows > settings.ESTATES_IMPORT_BACKGROUND_ROWS


def _finish(request, form, summary, written, file_name, dry_run):
    if written:
        messages.success(
            request,
            _("已从“%(file)s”导入 %(n)s 条历史工单。") % {"file": file_name, "n": written},
            buttons=[messages.button(reverse("wagtailsnippets_cases_case:list"), _("查看工单"))],
        )
        return redirect("cases_import")
    return _page(request, form, summary=summary, dry_run=dry_run, status=200 if not summary["error_count"] else 400)


def import_result(request, result_id):
    """A background import: "still working" (the page refreshes itself), then its report, or
    the success message. Only the user who uploaded the file sees it."""
    if not may_import(request.user):
        return _refused(request)
    try:
        result = tasks.import_cases_file.get_result(result_id)
    except TaskException:
        raise Http404 from None
    stored_name, file_name, user_id, dry_run, _language = result.args
    if user_id != request.user.pk:
        raise Http404
    if result.status == TaskResultStatus.SUCCESSFUL:
        value = result.return_value
        return _finish(request, CaseImportForm(), value["report"], value["written"], file_name, dry_run)
    context = {"file_name": file_name, "dry_run": dry_run}
    if result.status == TaskResultStatus.FAILED:
        context["failed"] = _("导入时发生内部错误，未导入任何数据，请联系管理员。")
    else:
        context["refresh_seconds"] = REFRESH_SECONDS
    return render(request, "cases/admin/import_waiting.html", context)


def _page(request, form, summary=None, dry_run=True, status=200):
    context = {"form": form, "kind": CASE_KIND, "dry_run": dry_run, "commit": COMMIT, "check": DRY_RUN}
    if summary is not None:
        errors = summary["errors"]
        context.update(
            report=summary,
            sheet=summary["sheets"][0] if summary["sheets"] else None,
            errors=[{**error, "text": format_error(error)} for error in errors],
            hidden_errors=max(summary["error_count"] - len(errors), 0),
            headers=[column.label for column in CASE_KIND.columns],
            samples=summary["samples"].get(CASE_KIND.key, ()),
        )
    return render(request, "cases/admin/import.html", context, status=status)


def template_download(request):
    if not may_import(request.user):
        return _refused(request)
    response = HttpResponse(template.build(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, _("历史工单导入模板.xlsx"))
    return response


def admin_urls():
    return [
        path("cases/import/", import_cases, name="cases_import"),
        path("cases/import/template.xlsx", template_download, name="cases_import_template"),
        path("cases/import/<str:result_id>/", import_result, name="cases_import_result"),
    ]
