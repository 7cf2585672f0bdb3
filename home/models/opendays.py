import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Sum
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel
from wagtail.fields import RichTextField
from wagtail.models import Orderable
from wagtail.search import index

from estates.models import Project
from estates.normalize import mask_mobile, validate_mobile
from search.segment import index_text
from search.text import join_text

from ..forms import OpenDayPageForm
from .base import PortalPage, paginate, project_filter, public_q


class OpenDayIndexPage(PortalPage):
    intro = models.CharField(_("导语"), max_length=250, blank=True)

    content_panels = PortalPage.content_panels + [FieldPanel("intro")]
    parent_page_types = ["home.HomePage"]
    subpage_types = ["home.OpenDayPage"]
    max_count = 1

    class Meta:
        verbose_name = _("开放日列表")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(project_filter(request))
        project = context["selected_project"]
        days = (
            OpenDayPage.objects.child_of(self).live().filter(public_q())
            .select_related("project").order_by("-first_date", "-pk")
        )
        if project:
            days = days.filter(project=project)
        context["open_days"] = paginate(request, days, 10)
        return context


class OpenDayKind(models.TextChoices):
    SITE_OPEN_DAY = "open_day", _("工地开放日")
    MOCK_INSPECTION = "mock_inspection", _("模拟验房")


class OpenDayPage(PortalPage):
    """工地开放日 / 模拟验房 with its time slots (场次) that owners register for."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="open_days", verbose_name=_("项目")
    )
    kind = models.CharField(_("活动类型"), max_length=20, choices=OpenDayKind.choices)
    intro = RichTextField(_("活动介绍"), blank=True)
    place = models.CharField(_("集合地点"), max_length=200)
    what_to_bring = models.TextField(_("请携带"), blank=True, help_text=_("如 购房合同、身份证；穿平底鞋"))
    # Kept by save() from the slots, so the listing orders without a join.
    first_date = models.DateField(_("首场日期"), null=True, blank=True, editable=False)

    content_panels = PortalPage.content_panels + [
        FieldRowPanel([FieldPanel("project"), FieldPanel("kind")]),
        FieldPanel("intro"),
        FieldPanel("place"),
        FieldPanel("what_to_bring"),
        InlinePanel("slots", heading=_("场次"), label=_("场次"), min_num=1),
    ]
    search_fields = PortalPage.search_fields + [index.FilterField("project_id")]
    parent_page_types = ["home.OpenDayIndexPage"]
    subpage_types = []
    base_form_class = OpenDayPageForm
    route_select_related = ("project", "share_image")

    class Meta:
        verbose_name = _("开放日活动")

    def search_text(self):
        with translation.override(settings.LANGUAGE_CODE):
            kind = self.get_kind_display()
        return join_text(super().search_text(), kind, self.place, self.what_to_bring)

    def search_words(self):
        return index_text(self.title, self.search_text(), self.project.name)

    def save(self, *args, **kwargs):
        dates = [slot.date for slot in self.slots.all() if slot.date]
        self.first_date = min(dates) if dates else None
        super().save(*args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["slot_rows"] = OpenDaySlot.with_seats(self.slots.all().order_by("date", "start"))
        return context


class OpenDaySlot(Orderable):
    """场次. Seats taken are summed from registrations under a row lock (never stored here:
    a page revision republished later would otherwise roll the count back)."""

    page = ParentalKey(OpenDayPage, on_delete=models.CASCADE, related_name="slots")
    date = models.DateField(_("日期"))
    start = models.TimeField(_("开始时间"))
    end = models.TimeField(_("结束时间"))
    capacity = models.PositiveIntegerField(_("名额（人）"), validators=[MinValueValidator(1)])
    max_party_size = models.PositiveSmallIntegerField(
        _("每份报名最多人数"), default=3, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    place = models.CharField(_("地点（如与活动不同）"), max_length=200, blank=True)

    panels = [
        FieldRowPanel([FieldPanel("date"), FieldPanel("start"), FieldPanel("end")]),
        FieldRowPanel([FieldPanel("capacity"), FieldPanel("max_party_size")]),
        FieldPanel("place"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("场次")
        verbose_name_plural = _("场次")
        indexes = [models.Index(fields=["date"], name="openday_slot_date")]

    def __str__(self):
        return f"{self.page.title} {self.date:%Y-%m-%d} {self.start:%H:%M}-{self.end:%H:%M}"

    @classmethod
    def with_seats(cls, queryset):
        return queryset.annotate(
            seats_taken=Sum(
                "registrations__party_size",
                filter=~Q(registrations__status=OpenDayRegistration.Status.CANCELLED),
                default=0,
            )
        )

    @classmethod
    def upcoming(cls, today):
        return cls.with_seats(
            cls.objects.filter(public_q("page__path"), date__gte=today, page__live=True)
            .select_related("page", "page__project")
            .order_by("date", "start")
        )

    @property
    def seats_left(self):
        return max(self.capacity - (getattr(self, "seats_taken", 0) or 0), 0)


def new_registration_code():
    # 8 characters from an alphabet without look-alikes (0/O, 1/I/L): easy to read out by phone.
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(8))


class OpenDayRegistration(models.Model):
    class Status(models.TextChoices):
        REGISTERED = "registered", _("已报名")
        CANCELLED = "cancelled", _("已取消")
        CHECKED_IN = "checked_in", _("已签到")

    slot = models.ForeignKey(
        OpenDaySlot, on_delete=models.PROTECT, related_name="registrations", verbose_name=_("场次")
    )
    code = models.CharField(_("报名码"), max_length=12, unique=True, default=new_registration_code)
    name = models.CharField(_("姓名"), max_length=50)
    mobile = models.CharField(_("手机号"), max_length=11, validators=[validate_mobile], db_index=True)
    unit_or_contract = models.CharField(_("房号或合同号"), max_length=50)
    party_size = models.PositiveSmallIntegerField(_("到场人数"), validators=[MinValueValidator(1)])
    remark = models.CharField(_("备注"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.REGISTERED)
    created_at = models.DateTimeField(_("报名时间"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("开放日报名")
        verbose_name_plural = _("开放日报名")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "mobile"],
                condition=~Q(status="cancelled"),
                name="openday_one_registration_per_mobile",
            )
        ]
        indexes = [models.Index(fields=["slot", "status"], name="openday_reg_slot_status")]

    def __str__(self):
        return f"{self.name} {self.code}"

    def masked_mobile(self):
        return mask_mobile(self.mobile)

    masked_mobile.short_description = _("手机号")
