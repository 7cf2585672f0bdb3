"""Repair (报修), complaint (投诉) and enquiry (咨询) pages on Wagtail's form builder.

Every ServiceFormPage has the fixed fields of ``forms.forms.ServiceForm`` (project → building →
unit, name, mobile, description, photos, consent); editors add their own with the builder. A
valid submission is stored as a ServiceSubmission with its SubmissionPhoto rows in one
transaction (``forms.services.submit``), then ``plugins.signals.form_submitted`` is sent.
"""

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef
from django.http import JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.forms.models import AbstractForm, AbstractFormField, AbstractFormSubmission
from wagtail.contrib.forms.panels import FormSubmissionsPanel
from wagtail.fields import RichTextField

from estates.models import Project, Unit
from home.models.base import PortalPage

from .forms import ServiceFormBuilder, ServiceFormPageAdminForm, parse_pk
from .uploads import private_storage

DONE_SALT = "portal_forms.done"
DONE_MAX_AGE = 24 * 3600
#: Wagtail hook: ``fn(token) -> Unit | None``. Lets the QR-code links (``estates.links``) resolve
#: ``?unit=<token>`` without this app knowing where tokens are stored.
RESOLVE_UNIT_HOOK = "portal_forms_resolve_unit_token"
#: Wagtail hook: ``fn(token) -> Building | None``, the same for a building's QR code
#: (``?building=<token>``: project and building filled in, the owner picks the unit).
RESOLVE_BUILDING_HOOK = "portal_forms_resolve_building_token"


class ServiceKind(models.TextChoices):
    REPAIR = "repair", _("报修")
    COMPLAINT = "complaint", _("投诉")
    ENQUIRY = "enquiry", _("咨询")


class Channel(models.TextChoices):
    WEB = "web", _("网页表单")
    QR = "qr", _("二维码")


class ServiceFormField(AbstractFormField):
    """A field an editor adds to a service page."""

    page = ParentalKey("ServiceFormPage", on_delete=models.CASCADE, related_name="form_fields")

    class Meta(AbstractFormField.Meta):
        verbose_name = _("附加字段")
        verbose_name_plural = _("附加字段")


def resolve_unit(value):
    """``?unit=`` → (Unit or None, channel). An id is the web form's own prefill; anything else
    is a QR token for the hook to resolve."""
    text = (value or "").strip()[:64]
    if not text:
        return None, Channel.WEB
    pk = parse_pk(text)
    if pk is not None:
        return Unit.objects.filter(pk=pk).first(), Channel.WEB
    unit = _from_token(RESOLVE_UNIT_HOOK, text)
    return unit, Channel.QR if unit is not None else Channel.WEB


def resolve_building_token(value):
    """``?building=`` that is not an id → the Building a QR token stands for, or None."""
    text = (value or "").strip()[:64]
    if not text or parse_pk(text) is not None:
        return None
    return _from_token(RESOLVE_BUILDING_HOOK, text)


def _from_token(hook_name, token):
    """The first answer of the ``hook_name`` functions for ``token`` that is not None."""
    for fn in hooks.get_hooks(hook_name):
        found = fn(token)
        if found is not None:
            return found
    return None


class ServiceFormPage(AbstractForm, PortalPage):
    """报修 / 投诉 / 咨询 page. Under the home page the owner chooses the project; under a
    project page the project is fixed."""

    kind = models.CharField(_("表单类型"), max_length=20, choices=ServiceKind.choices)
    intro = RichTextField(_("说明"), blank=True, help_text=_("显示在表单上方，如受理时间、紧急情况电话"))
    consent_text = RichTextField(
        _("个人信息授权说明"),
        help_text=_("业主须勾选同意后才能提交，请写明收集哪些信息、用途和保存期限"),
    )
    thank_you_text = RichTextField(
        _("提交成功后的说明"), blank=True, help_text=_("如：客服将在 30 分钟内与您联系")
    )

    content_panels = PortalPage.content_panels + [
        FieldPanel("kind"),
        FieldPanel("intro"),
        FormSubmissionsPanel(),
        InlinePanel(
            "form_fields",
            label=_("附加字段"),
            heading=_("附加字段"),
            help_text=_("姓名、手机号、房号、问题描述、照片和授权同意是固定字段，无需添加"),
        ),
        MultiFieldPanel([FieldPanel("consent_text"), FieldPanel("thank_you_text")], heading=_("授权与提交")),
    ]

    parent_page_types = ["home.HomePage", "home.ProjectPage"]
    subpage_types = []
    template = "forms/service_form_page.html"
    landing_page_template = "forms/service_form_page_landing.html"
    base_form_class = ServiceFormPageAdminForm
    form_builder = ServiceFormBuilder

    class Meta:
        verbose_name = _("报修/投诉/咨询表单")
        verbose_name_plural = _("报修/投诉/咨询表单")

    # --- what the form needs ------------------------------------------------------------------

    @cached_property
    def projects(self):
        """Every project, by code, for the project select; one query, which also marks the
        project whose ProjectPage is this page's parent (``is_parent``)."""
        parent_path = self.path[: -self.steplen] if self.path else ""
        from home.models import ProjectPage

        return list(
            Project.objects.only("id", "code", "name")
            .annotate(is_parent=Exists(ProjectPage.objects.filter(project=OuterRef("pk"), path=parent_path)))
            .order_by("code")
        )

    @cached_property
    def fixed_project(self):
        """The project of the ProjectPage this page sits under, else None (the owner chooses)."""
        return next((project for project in self.projects if project.is_parent), None)

    def clean(self):
        super().clean()
        # An empty editor still leaves "<p></p>": owners must have something to agree to.
        if not strip_tags(self.consent_text or "").strip():
            raise ValidationError({"consent_text": _("请填写个人信息授权说明，业主须同意后才能提交。")})

    @property
    def unit_required(self):
        return self.kind != ServiceKind.ENQUIRY

    def get_submission_class(self):
        return ServiceSubmission

    def get_submissions_list_view_class(self):
        from .views import ServiceSubmissionsListView

        return ServiceSubmissionsListView

    def get_data_fields(self):
        """Columns of the admin submissions listing and its export."""
        return [
            ("reference", _("受理编号")),
            ("submit_time", _("提交时间")),
            ("kind", _("类型")),
            ("channel", _("渠道")),
            ("project", _("项目")),
            ("unit", _("房号")),
            ("name", _("姓名")),
            ("mobile", _("手机号")),
            ("description", _("问题描述")),
            *[(field.clean_name, field.label) for field in self.get_form_fields()],
            ("photos", _("照片")),
        ]

    def prefill(self, request):
        """Initial values from ``?unit=<id or token>``, ``?project=<code>``,
        ``?building=<id or token>``. A token (a QR code) sets the channel to "qr"."""
        initial = {}
        unit, channel = resolve_unit(request.GET.get("unit"))
        fixed = self.fixed_project
        if unit is not None and (fixed is None or unit.project_id == fixed.pk):
            return {
                "project": str(unit.project_id),
                "building": str(unit.building_id),
                "unit": str(unit.pk),
                "channel": channel,
            }
        building = resolve_building_token(request.GET.get("building"))
        if building is not None and (fixed is None or building.project_id == fixed.pk):
            return {"project": str(building.project_id), "building": str(building.pk), "channel": Channel.QR}
        if fixed is None:
            code = (request.GET.get("project") or "").strip()
            project = next((p for p in self.projects if code and p.code == code), None)
            if project is not None:
                initial["project"] = str(project.pk)
        building = parse_pk(request.GET.get("building"))
        if building is not None and (fixed is not None or initial):
            initial["building"] = str(building)  # checked against the project by the form
        return initial

    # --- serving ------------------------------------------------------------------------------

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["fixed_project"] = self.fixed_project
        return context

    def serve(self, request, *args, **kwargs):
        status = 200
        if request.method == "POST":
            if request.POST.get("_refresh"):
                # "更新选项" without JavaScript: show the next level's choices, keep what was
                # typed, validate nothing yet. (Files cannot be kept by a browser.)
                initial = {
                    key: values if len(values) > 1 else values[0]
                    for key, values in request.POST.lists()
                    if key not in ("csrfmiddlewaretoken", "_refresh")
                }
                form = self.get_form(page=self, user=request.user, initial=initial)
            else:
                form = self.get_form(request.POST, request.FILES, page=self, user=request.user)
                if form.is_valid():
                    from .services import StorageUnavailable, submit

                    try:
                        outcome = submit(self, form, request)
                    except StorageUnavailable:
                        form.add_error(None, _("照片暂时无法保存，您填写的内容尚未提交，请稍后再试。"))
                        status = 503
                    else:
                        return redirect(self.done_url(outcome, request))
                else:
                    status = 400
        elif request.GET.get("choices"):
            return self.serve_choices(request)
        elif request.GET.get("done"):
            response = self.serve_done(request)
            if response is not None:
                return response
            form = self.get_form(page=self, user=request.user, initial=self.prefill(request))
        else:
            form = self.get_form(page=self, user=request.user, initial=self.prefill(request))
        context = self.get_context(request, *args, **kwargs)
        context["form"] = form
        return TemplateResponse(request, self.get_template(request), context, status=status)

    def serve_choices(self, request):
        """JSON for the unit picker script: the project's buildings, the building's units."""
        from .forms import Location

        location = Location(self, request.GET.get("project"), request.GET.get("building"))
        response = JsonResponse(location.as_json())
        response["Cache-Control"] = "public, max-age=300"
        return response

    def done_url(self, outcome, request=None):
        token = signing.dumps(
            {"id": outcome.submission.pk, "refs": outcome.references}, salt=DONE_SALT, compress=True
        )
        return f"{self.get_url(request)}?done={token}"

    def serve_done(self, request):
        """The thank-you page after the redirect; None for a bad or expired token."""
        try:
            done = signing.loads(request.GET["done"][:2000], salt=DONE_SALT, max_age=DONE_MAX_AGE)
        except (signing.BadSignature, ValueError, TypeError):
            return None
        if not isinstance(done, dict):
            return None
        return self.render_landing_page(
            request, reference=done.get("id"), references=done.get("refs") or []
        )

    def render_landing_page(self, request, form_submission=None, *args, reference=None, references=(), **kwargs):
        context = self.get_context(request)
        context["form_submission"] = form_submission
        context["reference"] = reference if reference is not None else getattr(form_submission, "pk", None)
        context["references"] = references
        response = TemplateResponse(request, self.get_landing_page_template(request), context)
        response["Cache-Control"] = "private, no-store"
        return response


class ServiceSubmission(AbstractFormSubmission):
    """One submission. The fixed fields are columns (indexed where the case desk and the admin
    filter); the editor's extra fields stay in ``form_data``."""

    kind = models.CharField(_("类型"), max_length=20, choices=ServiceKind.choices)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="service_submissions", verbose_name=_("项目")
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_submissions",
        verbose_name=_("房号"),
    )
    name = models.CharField(_("姓名"), max_length=50)
    mobile = models.CharField(_("手机号"), max_length=11)
    description = models.TextField(_("问题描述"))

    class Meta:
        verbose_name = _("表单提交")
        verbose_name_plural = _("表单提交")
        indexes = [
            models.Index(fields=["page", "submit_time"], name="svcsub_page_time"),
            models.Index(fields=["project", "submit_time"], name="svcsub_project_time"),
            models.Index(fields=["mobile"], name="svcsub_mobile"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def reference(self):
        """What the owner is told to quote; the case desk replaces it with the case number."""
        return str(self.pk)

    def photo_urls(self):
        return [reverse("portal_forms:photo", args=[photo.pk]) for photo in self.photos.all()]

    def get_data(self):
        return {
            **self.form_data,
            "reference": self.reference,
            "submit_time": self.submit_time,
            "kind": self.get_kind_display(),
            "channel": self.get_channel_display(),
            "project": self.project.name if self.project_id else "",
            "unit": self.unit.label if self.unit_id else "",
            "name": self.name,
            "mobile": self.mobile,
            "description": self.description,
            "photos": self.photo_urls(),
        }


class SubmissionPhoto(models.Model):
    """A photo of a submission, re-encoded by ``forms.uploads`` and kept in the private storage."""

    submission = models.ForeignKey(
        ServiceSubmission, on_delete=models.CASCADE, related_name="photos", verbose_name=_("表单提交")
    )
    file = models.FileField(_("文件"), storage=private_storage, max_length=200)
    content_type = models.CharField(_("类型"), max_length=50, default="image/jpeg")
    width = models.PositiveIntegerField(_("宽"))
    height = models.PositiveIntegerField(_("高"))
    size = models.PositiveIntegerField(_("大小(字节)"))
    original_name = models.CharField(_("原文件名"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["submission", "position", "pk"]
        verbose_name = _("表单照片")
        verbose_name_plural = _("表单照片")

    def __str__(self):
        return self.file.name
