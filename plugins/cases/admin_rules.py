"""Admin screens for the rules of automatic dispatch (派单规则) and the approved wording staff
reuse (统一说辞), in the 客服工单 menu (viewsets.CaseDeskViewSetGroup).

Routing rules are project-bound: a rule of a project is seen and edited only by staff serving
that project; a rule for every project (no project, no building) only by staff serving all
projects (estates.scope; ARCHITECTURE.md decision 3). Standard replies go live through Wagtail's
snippet workflow (the 客服+法务审核 review assigned by migration 0005_roles); staff are offered live
replies only (replies.py).
"""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.snippets.views.snippets import SnippetViewSet
from wagtail.snippets.widgets import AdminSnippetChooser

from estates import scope
from estates.models import Building
from estates.viewsets import ScopedSnippetViewSet, scoped_projects

from .models import Category, Kind, Priority, RoutingRule, StandardReply
from .routing import eligible_staff

# A rule is seen by the staff of its project; a rule with no project (all projects) only by
# those who serve all projects.
scope.register(RoutingRule, "project")


def _person(user):
    return user.get_full_name() or user.get_username()


def _category_label(category):
    return f"{category.get_kind_display()} · {category}"


def _categories():
    return Category.objects.select_related("parent").order_by("kind", "parent__sort_order", "sort_order", "code")


# --- Routing rules -----------------------------------------------------------------------------


class RoutingRuleForm(WagtailAdminModelForm):
    """The rule editor. Project, building and contractor choices are narrowed to the user's
    projects by ScopedFormMixin; the pool offers staff who may handle cases and serve one of
    the user's projects (and whoever is in the pool already, so nobody is dropped unseen)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        self.limited = user is not None and scope.project_ids_for(user) is not None
        if "category" in self.fields:
            self.fields["category"].queryset = _categories()
            self.fields["category"].label_from_instance = _category_label
        if "pool" in self.fields:
            offered = eligible_staff(scope.project_ids_for(user) if user is not None else frozenset())
            if self.instance.pk:
                offered = get_user_model().objects.filter(
                    Q(pk__in=offered.values("pk")) | Q(pk__in=self.instance.pool.values("pk"))
                )
            self.fields["pool"].queryset = offered.order_by("username")
            self.fields["pool"].label_from_instance = _person

    def clean(self):
        data = super().clean()
        project, building = data.get("project"), data.get("building")
        if building is not None and project is None and not self.has_error("project"):
            # A building's rule belongs to the building's project (and to its staff).
            data["project"] = project = building.project
        if project is None and self.limited and not self.has_error("project"):
            # A rule for every project would reach projects this user does not serve.
            self.add_error("project", gettext("您只负责部分项目，请选择规则适用的项目。"))
        contractor = data.get("contractor")
        if contractor is not None:
            if not contractor.active:
                self.add_error("contractor", gettext("该施工单位已停止合作，不能派单。"))
            elif project is not None and not contractor.projects.filter(pk=project.pk).exists():
                self.add_error("contractor", gettext("该施工单位不服务所选项目。"))
        pool = list(data.get("pool") or ())
        if pool and project is not None:
            fit = set(eligible_staff([project.pk]).filter(pk__in=[user.pk for user in pool]).values_list("pk", flat=True))
            unfit = [_person(user) for user in pool if user.pk not in fit]
            if unfit:
                self.add_error("pool", gettext("以下人员不能处理该项目的工单（已停用、没有处理权限或不服务该项目）：%(names)s")
                               % {"names": "、".join(unfit)})
        if not (data.get("department") or contractor or pool) and not self.errors:
            self.add_error(None, gettext("请至少选择一个派单对象：部门、施工单位或处理人员池。"))
        return data


def _target(rule):
    parts = [str(target) for target in (rule.department, rule.contractor) if target is not None]
    pool = list(rule.pool.all())
    if pool:
        parts.append(gettext("人员池：%(names)s") % {"names": "、".join(_person(user) for user in pool)})
    return "；".join(parts)


def _any():
    return gettext("不限")


def _where(rule):
    if rule.building_id:
        return str(rule.building)
    return rule.project.name if rule.project_id else gettext("全部项目")


class RoutingRuleFilterSet(WagtailFilterSet):
    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=scoped_projects)
    kind = django_filters.ChoiceFilter(label=_("工单类型"), choices=Kind.choices)
    category = django_filters.ModelChoiceFilter(label=_("分类"), queryset=lambda request: _categories())
    priority = django_filters.ChoiceFilter(label=_("紧急程度"), choices=Priority.choices)
    strategy = django_filters.ChoiceFilter(label=_("分配方式"), choices=RoutingRule.Strategy.choices)

    class Meta:
        model = RoutingRule
        fields = ["project", "kind", "category", "priority", "strategy", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["category"].field.label_from_instance = _category_label


class RoutingRuleViewSet(ScopedSnippetViewSet):
    model = RoutingRule
    icon = "resubmit"
    menu_label = _("派单规则")
    menu_order = 32
    list_display = [
        "name",
        Column("kind", label=_("工单类型"), accessor=lambda rule: rule.get_kind_display() or _any(), sort_key="kind"),
        Column("category", label=_("分类"), accessor=lambda rule: rule.category or _any()),
        Column("priority", label=_("紧急程度"), accessor=lambda rule: rule.get_priority_display() or _any(),
               sort_key="priority"),
        Column("where", label=_("项目/楼栋"), accessor=_where),
        Column("target", label=_("派往"), accessor=_target),
        "strategy",
        Column("order", label=_("匹配顺序"), sort_key="order"),
        BooleanColumn("active", label=_("启用"), sort_key="active"),
    ]
    filterset_class = RoutingRuleFilterSet
    search_fields = ["name"]
    ordering = ["order", "pk"]
    list_per_page = 50
    copy_view_enabled = False
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("name"), FieldPanel("order"), FieldPanel("active")]),
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("kind"), FieldPanel("category"), FieldPanel("priority")]),
                    FieldRowPanel([FieldPanel("project"), FieldPanel("building", widget=AdminSnippetChooser(Building))]),
                ],
                heading=_("匹配条件"),
                help_text=_("留空表示不限；数字小的规则先匹配，第一条匹配且能接单的规则派单。"),
            ),
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("department"), FieldPanel("contractor")]),
                    FieldPanel("pool", widget=forms.CheckboxSelectMultiple,
                               help_text=_("只列出在职、可以处理工单并服务您负责项目的员工。派单时跳过已停用或不服务该工单项目的人员。")),
                    FieldPanel("strategy"),
                ],
                heading=_("派往"),
            ),
        ],
        base_form_class=RoutingRuleForm,
    )

    def get_queryset(self, request):
        return RoutingRule.objects.select_related(
            "category__parent", "project", "building__project", "department", "contractor"
        ).prefetch_related("pool")


# --- Standard replies --------------------------------------------------------------------------


class StandardReplyForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "category" in self.fields:
            self.fields["category"].queryset = _categories()
            self.fields["category"].label_from_instance = _category_label

    def clean(self):
        data = super().clean()
        category, kind = data.get("category"), data.get("kind")
        if category is not None and kind and category.kind != kind:
            self.add_error("category", gettext("分类与工单类型不符。"))
        return data


class StandardReplyFilterSet(WagtailFilterSet):
    kind = django_filters.ChoiceFilter(label=_("工单类型"), choices=Kind.choices)
    category = django_filters.ModelChoiceFilter(label=_("分类"), queryset=lambda request: _categories())
    live = django_filters.BooleanFilter(label=_("已发布"))

    class Meta:
        model = StandardReply
        fields = ["kind", "category", "live"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["category"].field.label_from_instance = _category_label


class StandardReplyViewSet(SnippetViewSet):
    model = StandardReply
    icon = "openquote"
    menu_label = _("统一说辞")
    menu_order = 34
    list_display = [
        "title",
        Column("kind", label=_("工单类型"), accessor=lambda item: item.get_kind_display() or _any(), sort_key="kind"),
        Column("category", label=_("分类"), accessor=lambda item: item.category or _any()),
        Column("sort_order", label=_("排序"), sort_key="sort_order"),
    ]
    filterset_class = StandardReplyFilterSet
    search_fields = ["title", "text"]
    search_backend_name = None  # ORM icontains: Chinese substrings match (STACK-NOTES §1)
    list_per_page = 50
    edit_handler = ObjectList(
        [
            FieldPanel("title"),
            FieldRowPanel([FieldPanel("kind"), FieldPanel("category"), FieldPanel("sort_order")]),
            FieldPanel("text", widget=forms.Textarea(attrs={"rows": 6})),
        ],
        base_form_class=StandardReplyForm,
    )

    def get_queryset(self, request):
        return StandardReply.objects.select_related("category__parent")
