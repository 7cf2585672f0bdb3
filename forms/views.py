"""Staff views: the submissions listing (Wagtail's, narrowed to the staff member's projects and
with photo links) and the permission-checked view that serves a submission's photo."""

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from wagtail.contrib.forms.utils import get_forms_for_user
from wagtail.contrib.forms.views import SubmissionsListView

from estates.scope import project_ids_for, restrict

from .models import SubmissionPhoto


def can_view_submissions(user, page_id):
    """Whether ``user`` may read the submissions of the form page ``page_id`` (Wagtail's rule:
    change permission on the page)."""
    return get_forms_for_user(user).filter(pk=page_id).exists()


def in_project_scope(user, project_id):
    ids = project_ids_for(user)
    return ids is None or project_id in ids


class ServiceSubmissionsListView(SubmissionsListView):
    """Wagtail's listing of a form page's submissions, limited to the projects the staff member
    serves (ARCHITECTURE.md decision 3), without a query per row, with photo links."""

    def get_base_queryset(self):
        queryset = super().get_base_queryset().select_related("project", "unit").prefetch_related("photos")
        return restrict(queryset, self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.is_export:
            return context
        names = [name for name, _label in self.form_page.get_data_fields()]
        photos_at = names.index("photos")
        by_id = {submission.pk: submission for submission in context["submissions"]}
        for row in context.get("data_rows", []):
            submission = by_id[row["model_id"]]
            row["fields"][photos_at] = format_html_join(
                " ",
                '<a href="{}" target="_blank" rel="noopener">{}</a>',
                (
                    (url, _("照片%(n)d") % {"n": n})
                    for n, url in enumerate(submission.photo_urls(), start=1)
                ),
            ) or format_html("{}", "—")
        return context

    def to_row_dict(self, item):
        row = super().to_row_dict(item)
        if "photos" in row:
            base = self.request.build_absolute_uri("/")[:-1]
            row["photos"] = "\n".join(base + url for url in row["photos"] or [])
        return row


@require_safe
def submission_photo(request, pk):
    """Serve one photo to staff who may read that form's submissions and serve its project.
    Anyone else: 403 when not signed in to the admin, 404 otherwise (no hint it exists)."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.has_perm("wagtailadmin.access_admin")):
        raise PermissionDenied
    photo = get_object_or_404(SubmissionPhoto.objects.select_related("submission"), pk=pk)
    submission = photo.submission
    if not can_view_submissions(user, submission.page_id) or not in_project_scope(user, submission.project_id):
        raise Http404
    try:
        handle = photo.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404
    extension = "png" if photo.content_type == "image/png" else "jpg"
    response = FileResponse(
        handle,
        content_type=photo.content_type,
        as_attachment=False,
        filename=f"submission-{submission.pk}-{photo.position + 1}.{extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
