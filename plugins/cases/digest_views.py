"""The daily complaint digest in the admin (每日投诉简报): the list of digests, one digest's page,
its rules, and the admin home's notice of today's digest while unread.

Who reads what. Recipients (a ``DigestReceipt``) and managers (superusers and the 客服经理 group)
may open a digest; anyone else gets a 403 with a message. Every reader sees only the rows of
their projects (estates.scope), filtered from the frozen snapshot when shown. Opening a digest
records the reader's first opening once. Who has not read it is shown to managers (everyone)
and to supervisors (their own staff, estates.StaffProfile.supervisor). The rules
(``DigestSettings``) need ``cases.change_digestsettings`` (granted to 客服经理 on migrate).
"""

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.models import Group
from django.core.paginator import Paginator
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from estates import scope
from estates.models import StaffProfile

from . import digest as digests
from .models import ComplaintDigest, DigestReceipt, DigestSettings
from .models.digest import CHASE_MESSAGE

SETTINGS_PERMISSION = "cases.change_digestsettings"
PER_PAGE = 30
#: Names of unread staff a digest page lists (the count is always shown).
UNREAD_SHOWN = 200

MISSING = gettext_lazy("该简报不存在或已被删除。")
NOT_A_READER = gettext_lazy("您不在这份简报的接收范围内，不能阅读。如需阅读，请联系客服经理。")
NO_SETTINGS_PERMISSION = gettext_lazy("您没有修改每日投诉简报设置的权限。")


def refused(request, message, status):
    return render(request, "cases/admin/digest_refused.html", {"message": message}, status=status)


def supervises(user):
    """Whether ``user`` is anyone's supervisor (cached on the user object)."""
    cached = getattr(user, "_digest_supervises", None)
    if cached is None:
        cached = user._digest_supervises = StaffProfile.objects.filter(supervisor=user).exists()
    return cached


def may_see_menu(user):
    """Staff with a StaffProfile (the recipients, unless the rules name groups) and managers.
    The profile is the one estates.scope loads and caches on the user for the request, so on
    most admin pages this asks the database nothing more."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    if getattr(user, "_scope_profile", None) is None:
        scope.is_unrestricted(user)  # loads and caches user._scope_profile (the profile or False)
    return bool(getattr(user, "_scope_profile", None)) or digests.is_manager(user)


def _receipt_count(**filters):
    receipts = (DigestReceipt.objects.filter(digest=OuterRef("pk"), **filters).order_by().values("digest")
                .annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(receipts, output_field=IntegerField()), 0)


class DigestMixin(WagtailAdminTemplateMixin):
    header_icon = "doc-full"

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": reverse("cases_digests"), "label": _("每日投诉简报")}]


class DigestListView(DigestMixin, TemplateView):
    """The digests the user may read, newest first, with their own read mark and, for managers
    and supervisors, how many of those they oversee have read it."""

    template_name = "cases/admin/digest_list.html"
    page_title = gettext_lazy("每日投诉简报")

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": _("每日投诉简报")}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        mine = DigestReceipt.objects.filter(digest=OuterRef("pk"), user=user)
        digest_list = ComplaintDigest.objects.defer("rows").annotate(
            received=Exists(mine), opened_at=Subquery(mine.values("first_opened_at")[:1]))
        manager = digests.is_manager(user)
        team = not manager and supervises(user)
        if manager:
            digest_list = digest_list.annotate(readers=_receipt_count(),
                                               read=_receipt_count(first_opened_at__isnull=False))
        else:
            digest_list = digest_list.filter(received=True)
        if team:
            digest_list = digest_list.annotate(
                readers=_receipt_count(user__staff_profile__supervisor=user),
                read=_receipt_count(user__staff_profile__supervisor=user, first_opened_at__isnull=False))
        paginator = Paginator(digest_list.order_by("-day"), PER_PAGE)
        page = paginator.get_page(self.request.GET.get("p"))
        context.update(
            page=page,
            elided_page_range=paginator.get_elided_page_range(page.number),
            rows=[{"digest": digest, "url": digests.digest_url(digest), "count": digests.visible_total(digest, user),
                   "unread": digest.received and digest.opened_at is None}
                  for digest in page],
            reading=manager or team,
            reading_label=_("全员已读") if manager else _("下属已读"),
            settings_url=reverse("cases_digest_settings") if user.has_perm(SETTINGS_PERMISSION) else "",
        )
        return context


class DigestView(DigestMixin, TemplateView):
    """One digest: the rows of the reader's projects, their counts, and who has not read it
    (for those who may see that). Opening it records the reader's first opening."""

    template_name = "cases/admin/digest.html"
    page_title = gettext_lazy("每日投诉简报")

    def get(self, request, *args, **kwargs):
        self.digest = ComplaintDigest.objects.filter(pk=kwargs["pk"]).first()
        if self.digest is None:
            return refused(request, MISSING, 404)
        if not digests.may_read(request.user, self.digest):
            return refused(request, NOT_A_READER, 403)
        digests.record_opening(self.digest, request.user)
        return super().get(request, *args, **kwargs)

    def get_page_subtitle(self):
        return self.digest.day.isoformat()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, digest = self.request.user, self.digest
        rows = digests.visible_rows(digest, user)
        if user.has_perm("cases.view_case"):
            for row in rows:
                row["url"] = reverse("wagtailsnippets_cases_case:inspect", args=(row["case"],))
        projects, grades = digests.summarize(rows)
        context.update(digest=digest, rows=rows, projects=projects, grades=grades, list_url=reverse("cases_digests"))
        context.update(self.reading(user, digest))
        return context

    def reading(self, user, digest):
        """Who has read it: everyone for managers, their staff for supervisors, else nothing."""
        receipts = DigestReceipt.objects.filter(digest=digest)
        if digests.is_manager(user):
            scope_label = _("全部接收人")
        elif supervises(user):
            receipts = receipts.filter(user__staff_profile__supervisor=user)
            scope_label = _("您的下属")
        else:
            return {"reading": False}
        counted = receipts.aggregate(total=Count("pk"), read=Count("pk", filter=Q(first_opened_at__isnull=False)))
        unread = list(receipts.filter(first_opened_at__isnull=True).select_related("user")
                      .order_by("user__username", "user__pk")[:UNREAD_SHOWN])
        return {"reading": True, "reading_scope": scope_label, "readers": counted["total"], "read": counted["read"],
                "unread": [digests.person(receipt.user) for receipt in unread],
                "unread_more": counted["total"] - counted["read"] - len(unread)}


# --- Rules ----------------------------------------------------------------------------------------


class DigestSettingsForm(forms.ModelForm):
    publish_time = forms.TimeField(
        label=gettext_lazy("发布时间"), input_formats=["%H:%M", "%H:%M:%S"],
        widget=forms.TimeInput(format="%H:%M", attrs={"placeholder": "08:30"}),
        help_text=DigestSettings._meta.get_field("publish_time").help_text,
        error_messages={"invalid": gettext_lazy("发布时间格式不对，请按“时:分”填写，例如 08:30。"),
                        "required": gettext_lazy("请填写发布时间，例如 08:30。")},
    )
    chase_minutes = forms.IntegerField(
        label=DigestSettings._meta.get_field("chase_minutes").verbose_name, min_value=1,
        help_text=DigestSettings._meta.get_field("chase_minutes").help_text,
        error_messages={"invalid": CHASE_MESSAGE, "min_value": CHASE_MESSAGE, "required": CHASE_MESSAGE},
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by("name"), required=False, widget=forms.CheckboxSelectMultiple,
        label=DigestSettings._meta.get_field("groups").verbose_name,
        help_text=DigestSettings._meta.get_field("groups").help_text,
    )

    class Meta:
        model = DigestSettings
        fields = ["enabled", "publish_time", "chase_minutes", "send_email", "groups"]


class DigestSettingsView(DigestMixin, TemplateView):
    """The digest's rules; a form that does not validate comes back with its messages and a 400."""

    template_name = "cases/admin/digest_settings.html"
    page_title = gettext_lazy("每日投诉简报设置")
    header_icon = "cog"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(SETTINGS_PERMISSION):
            return refused(request, NO_SETTINGS_PERMISSION, 403)
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), {"url": "", "label": _("设置")}]

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=DigestSettingsForm(instance=DigestSettings.load())))

    def post(self, request, *args, **kwargs):
        form = DigestSettingsForm(request.POST, instance=DigestSettings.load())
        if not form.is_valid():
            messages.error(request, _("设置未保存，请改正下面的错误。"))
            return self.render_to_response(self.get_context_data(form=form), status=400)
        form.save()
        messages.success(request, _("每日投诉简报设置已保存。"))
        return redirect("cases_digest_settings")


# --- The admin home ---------------------------------------------------------------------------------


class DigestPanel(Component):
    """Today's digest (yesterday's complaints) while the user has not opened it."""

    order = 60
    template_name = "cases/admin/digest_panel.html"

    def __init__(self, digest, count):
        self.digest, self.count = digest, count

    def get_context_data(self, parent_context=None):
        return {"digest": self.digest, "count": self.count, "url": digests.digest_url(self.digest)}


def add_digest_panel(request, panels):
    user = request.user
    yesterday = digests.local_day(timezone.now()) - dt.timedelta(days=1)
    receipt = (DigestReceipt.objects.filter(user=user, digest__day=yesterday, first_opened_at__isnull=True)
               .select_related("digest").defer("digest__rows").first())
    if receipt is not None:
        panels.append(DigestPanel(receipt.digest, digests.visible_total(receipt.digest, user)))


# --- Wiring (wagtail_hooks.py) ------------------------------------------------------------------------


def digest_urls():
    return [
        path("cases/digests/", DigestListView.as_view(), name="cases_digests"),
        path("cases/digests/settings/", DigestSettingsView.as_view(), name="cases_digest_settings"),
        path("cases/digests/<int:pk>/", DigestView.as_view(), name="cases_digest"),
    ]


def digest_permissions():
    """Offer "change digest settings" in Wagtail's group editor, so an administrator can give the
    rules to groups other than 客服经理."""
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label="cases", codename="change_digestsettings")


class DigestMenuItem(MenuItem):
    def is_shown(self, request):
        return may_see_menu(request.user)


def digest_menu_item():
    # With the case desk's own items: 客服工单 (180), 导入历史工单 (181), 回访台 (182), 来电登记 (183),
    # 指标看板 (184).
    return DigestMenuItem(gettext_lazy("每日投诉简报"), reverse_lazy("cases_digests"), name="cases-digests",
                          icon_name="doc-full", order=185)
