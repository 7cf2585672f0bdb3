"""时限规则 in the admin: SLA policies with their targets edited on the same page
(ARCHITECTURE.md decisions 2, 3 and 7).

The targets are a plain ForeignKey (SLAPolicy is not a ClusterableModel), so Wagtail's
InlinePanel cannot edit them; the policy form carries a Django inline formset instead, which
validates and saves with the form, and ``TargetsPanel`` renders it.

Scope: a general policy (no project) applies to every project, so only staff who serve every
project may change or delete it; staff limited to some projects see the general policies
read-only (inspect) and edit their own projects' policies. Another project's policy is a 404
everywhere: list, filters, inspect, edit, delete, history, usage and chooser.

Editing a policy never moves a running clock: clocks copy their target when they start
(clocks.py), so an edit applies to clocks started afterwards.
"""

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, ObjectList, Panel
from wagtail.admin.ui.tables import Column
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import policy_registry, register_permission_policy
from wagtail.snippets.views import chooser as snippet_chooser
from wagtail.snippets.views import snippets as snippet_views
from wagtail.snippets.views.snippets import SnippetViewSet

from estates import scope
from estates.viewsets import NoCreationMixin

from .models import Category, ClockKind, Kind, SLAPolicy, SLATarget, TargetUnit, WorkCalendar

# --- Scope -----------------------------------------------------------------------------------------


def visible_policies(queryset, user):
    """General policies and those of the projects ``user`` serves."""
    ids = scope.project_ids_for(user)
    if ids is None:
        return queryset
    return queryset.filter(Q(project__isnull=True) | Q(project_id__in=ids))


def is_visible(policy, user):
    ids = scope.project_ids_for(user)
    return ids is None or policy.project_id is None or policy.project_id in ids


def is_editable(policy, user):
    """A general policy binds every project: only staff serving every project change it."""
    ids = scope.project_ids_for(user)
    return ids is None or (policy.project_id is not None and policy.project_id in ids)


class SLAPolicyPermissionPolicy(ModelPermissionPolicy):
    """Model permissions say *what*; the policy's project says *where* (decision 3)."""

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        if action in ("change", "delete"):
            return is_editable(instance, user)
        return is_visible(instance, user)


register_permission_policy(SLAPolicy, SLAPolicyPermissionPolicy(SLAPolicy))


def policy_permissions():
    return policy_registry.get_by_type(SLAPolicy)


# --- How a policy reads in the list and on its page -----------------------------------------------


def category_label(policy):
    return str(policy.category) if policy.category_id else gettext("全部分类")


def priority_label(policy):
    return policy.get_priority_display() if policy.priority else gettext("任意")


def project_label(policy):
    return policy.project.name if policy.project_id else gettext("全部项目（通用）")


# --- Summary of the targets ---------------------------------------------------------------------------

CLOCK_ORDER = {clock: n for n, clock in enumerate(ClockKind.values)}


def target_summary(target):
    """联系业主 30 分钟（工作日 8:30–17:30）, 回访 3 个工作日（…）, 部门回复 早于答复业主 1 小时."""
    clock = target.get_clock_display()
    if target.before_clock:
        return gettext("%(clock)s 早于%(other)s %(amount)s %(unit)s") % {
            "clock": clock, "other": ClockKind(target.before_clock).label, "amount": target.amount,
            "unit": TargetUnit(target.unit).label,
        }
    calendar = target.calendar
    if target.unit == TargetUnit.DAYS:
        # On a working calendar a day is a working day (DOMAIN.md "Clocks").
        unit = gettext("天") if calendar is None or calendar.always else gettext("个工作日")
    else:
        unit = TargetUnit(target.unit).label
    where = "" if calendar is None else gettext("（全天）") if calendar.always else f"（{calendar.name}）"
    return f"{clock} {target.amount} {unit}{where}"


TARGETS_WITH_CALENDARS = Prefetch("targets", queryset=SLATarget.objects.select_related("calendar"))


def targets_summary(policy):
    targets = sorted(policy.targets.all(), key=lambda target: CLOCK_ORDER.get(target.clock, 99))
    return " · ".join(target_summary(target) for target in targets) or gettext("未设置时限")


# --- The form: the policy and its targets --------------------------------------------------------------


class SLATargetForm(forms.ModelForm):
    class Meta:
        model = SLATarget
        fields = ["clock", "amount", "unit", "before_clock", "calendar", "remind_percent"]
        widgets = {
            "amount": forms.NumberInput(attrs={"style": "width: 6em"}),
            "remind_percent": forms.NumberInput(attrs={"style": "width: 5em"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The model's MinValueValidator(1), not the positive field's 0, in the browser too.
        for name in ("amount", "remind_percent"):
            self.fields[name].widget.attrs["min"] = 1


class BaseTargetFormSet(forms.BaseInlineFormSet):
    """One row per clock the policy sets; the empty rows offer the clocks not set yet. A
    saved row keeps its clock (delete it and add another), so saving never swaps two rows'
    clocks through the unique (policy, clock) constraint."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.extra = max(len(ClockKind.values) - len(self.get_queryset()), 0)
        # One calendar query for every row's select (the queryset still validates).
        self.calendar_choices = [("", "---------")] + [(c.pk, str(c)) for c in WorkCalendar.objects.all()]

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.fields["calendar"].choices = self.calendar_choices
        if form.instance.pk:
            form.fields["clock"].disabled = True
        return form

    def clean(self):
        if any(self.errors):
            return
        # Saved rows not marked for deletion, and the empty rows the user filled in.
        kept = [
            form for form in self.forms
            if (form.instance.pk or form.has_changed())
            and not self._should_delete_form(form) and form.cleaned_data.get("clock")
        ]
        by_clock = {}
        for form in kept:
            clock = form.cleaned_data["clock"]
            if clock in by_clock:
                form.add_error("clock", gettext("“%(clock)s”已经设置过，每个时限只能设置一次。")
                               % {"clock": ClockKind(clock).label})
            else:
                by_clock[clock] = form
        for form in kept:
            before = form.cleaned_data.get("before_clock")
            if not before or form.errors:
                continue
            reference = by_clock.get(before)
            if reference is None:
                form.add_error("before_clock", gettext("本规则没有“%(clock)s”时限，无法以它为准。")
                               % {"clock": ClockKind(before).label})
            elif reference.cleaned_data.get("before_clock"):
                # The engine starts relative clocks after absolute ones, never after each other.
                form.add_error("before_clock", gettext("“%(clock)s”本身早于另一时限，不能再以它为准。")
                               % {"clock": ClockKind(before).label})
        if not kept:
            raise forms.ValidationError(gettext("请至少设置一个时限目标。"))
        super().clean()


TargetFormSet = forms.inlineformset_factory(
    SLAPolicy, SLATarget, form=SLATargetForm, formset=BaseTargetFormSet,
    can_delete=True, max_num=len(ClockKind.values), validate_max=True,
)


class SLAPolicyForm(WagtailAdminModelForm):
    """The policy's fields plus ``targets``, an inline formset validated and saved with it.
    Project choices: the user's projects; staff limited to some projects must pick one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        if "project" in self.fields and user is not None:
            field = self.fields["project"]
            field.queryset = scope.projects_for(user).order_by("code")
            if not scope.is_unrestricted(user):
                field.required = True
                field.help_text = _("您只能为自己负责的项目设置规则；通用规则由负责全部项目的管理员维护。")
        if "category" in self.fields:
            field = self.fields["category"]
            field.queryset = Category.objects.select_related("parent")
            field.label_from_instance = lambda category: f"{category.get_kind_display()} · {category}"
        self.targets = TargetFormSet(
            self.data if self.is_bound else None, instance=self.instance, prefix="targets"
        )

    def is_valid(self):
        # Both validated (a list, not ``and``), so both show their errors at once.
        valid = [super().is_valid(), self.targets.is_valid()]
        return all(valid)

    def has_changed(self):
        return super().has_changed() or self.targets.has_changed()

    def save(self, commit=True):
        policy = super().save(commit=commit)
        if commit:
            self.targets.instance = policy
            self.targets.save()
        return policy


class TargetsPanel(Panel):
    """Renders the form's target formset as a table."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "cases/admin/sla_targets_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context["formset"] = self.form.targets
            return context


# --- Views -----------------------------------------------------------------------------------------


class PolicyObjectMixin:
    """Another project's policy: 404. Edit and delete of a policy the user may only read: 403."""

    permission_for_object = None

    def get_object(self, *args, **kwargs):
        policy = super().get_object(*args, **kwargs)
        user = self.request.user
        if policy is not None and not is_visible(policy, user):
            raise Http404
        if self.permission_for_object and not policy_permissions().user_has_permission_for_instance(
            user, self.permission_for_object, policy
        ):
            raise PermissionDenied
        return policy


class BadInputMixin:
    """A form that does not validate comes back with its messages and a 400, not a 200."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if response.status_code == 200:
            response.status_code = 400
        return response


class PolicyLinksMixin:
    """Edit and delete links only where the user may use them."""

    def _may(self, action, policy):
        return policy_permissions().user_has_permission_for_instance(self.request.user, action, policy)


class SLAPolicyIndexView(PolicyLinksMixin, snippet_views.IndexView):
    def get_base_queryset(self):
        return visible_policies(super().get_base_queryset(), self.request.user).select_related(
            "category__parent", "project"
        ).prefetch_related(TARGETS_WITH_CALENDARS)

    def get_edit_url(self, instance):
        return super().get_edit_url(instance) if self._may("change", instance) else None

    def get_delete_url(self, instance):
        return super().get_delete_url(instance) if self._may("delete", instance) else None


class SLAPolicyInspectView(PolicyLinksMixin, PolicyObjectMixin, snippet_views.InspectView):
    def get_edit_url(self):
        return super().get_edit_url() if self._may("change", self.object) else None

    def get_delete_url(self):
        return super().get_delete_url() if self._may("delete", self.object) else None

    def get_field_label(self, field_name, field):
        if field_name == "targets":
            return gettext("时限目标")
        return super().get_field_label(field_name, field)

    def get_targets_display_value(self):
        prefetch_related_objects([self.object], TARGETS_WITH_CALENDARS)
        return targets_summary(self.object)

    def get_category_display_value(self):
        return category_label(self.object)

    def get_priority_display_value(self):
        return priority_label(self.object)

    def get_project_display_value(self):
        return project_label(self.object)


def _scoped(view_class, *mixins, **attrs):
    return type(f"SLAPolicy{view_class.__name__}", (*mixins, view_class), attrs)


class PolicyChooseMixin:
    def get_object_list(self):
        return visible_policies(super().get_object_list(), self.request.user)


class PolicyChosenMixin:
    def get_object(self, pk):
        policy = super().get_object(pk)
        if not is_visible(policy, self.request.user):
            raise SLAPolicy.DoesNotExist
        return policy


class PolicyChosenMultipleMixin:
    def get_objects(self, pks):
        return visible_policies(super().get_objects(pks), self.request.user)


class SLAPolicyChooserViewSet(snippet_chooser.SnippetChooserViewSet):
    create_view_class = _scoped(snippet_chooser.SnippetCreateView, NoCreationMixin)
    choose_view_class = _scoped(snippet_chooser.ChooseView, PolicyChooseMixin)
    choose_results_view_class = _scoped(snippet_chooser.ChooseResultsView, PolicyChooseMixin)
    chosen_view_class = _scoped(snippet_chooser.SnippetChosenView, PolicyChosenMixin)
    chosen_multiple_view_class = _scoped(snippet_chooser.SnippetChosenMultipleView, PolicyChosenMultipleMixin)


# --- Filters -----------------------------------------------------------------------------------------

GENERAL = "general"


class SLAPolicyFilterSet(WagtailFilterSet):
    kind = django_filters.ChoiceFilter(label=_("工单类型"), choices=Kind.choices)
    project = django_filters.ChoiceFilter(label=_("项目"), method="filter_project")
    active = django_filters.BooleanFilter(label=_("启用"))

    class Meta:
        model = SLAPolicy
        fields = ["kind", "project", "active"]

    def __init__(self, data=None, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        projects = []
        if request is not None:
            projects = [(str(pk), name) for pk, name in
                        scope.projects_for(request.user).order_by("code").values_list("pk", "name")]
        self.filters["project"].extra["choices"] = [(GENERAL, _("通用（全部项目）")), *projects]

    def filter_project(self, queryset, name, value):
        if value == GENERAL:
            return queryset.filter(project__isnull=True)
        return queryset.filter(project_id=int(value))


# --- The viewset -------------------------------------------------------------------------------------


class SLAPolicyViewSet(SnippetViewSet):
    model = SLAPolicy
    icon = "time"
    menu_label = _("时限规则")
    menu_order = 35
    index_view_class = SLAPolicyIndexView
    inspect_view_class = SLAPolicyInspectView
    add_view_class = _scoped(snippet_views.CreateView, BadInputMixin)
    edit_view_class = _scoped(snippet_views.EditView, BadInputMixin, PolicyObjectMixin,
                              permission_for_object="change")
    delete_view_class = _scoped(snippet_views.DeleteView, PolicyObjectMixin, permission_for_object="delete")
    history_view_class = _scoped(snippet_views.HistoryView, PolicyObjectMixin)
    usage_view_class = _scoped(snippet_views.UsageView, PolicyObjectMixin)
    chooser_viewset_class = SLAPolicyChooserViewSet
    inspect_view_enabled = True
    copy_view_enabled = False
    inspect_view_fields = ["name", "kind", "category", "priority", "project", "order", "active",
                           "repeat_window_days", "targets"]
    list_display = [
        "name",
        "kind",
        Column("category", label=_("分类"), accessor=category_label),
        Column("priority", label=_("紧急程度"), accessor=priority_label),
        Column("project", label=_("项目"), accessor=project_label),
        "order",
        "active",
        Column("targets", label=_("时限目标"), accessor=targets_summary),
    ]
    filterset_class = SLAPolicyFilterSet
    search_fields = ["name"]
    search_backend_name = None
    list_per_page = 50
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            # A select, not the snippet chooser: a few dozen categories, labelled with their kind.
            FieldRowPanel([FieldPanel("kind"), FieldPanel("category", widget=forms.Select),
                           FieldPanel("priority")]),
            FieldRowPanel([FieldPanel("project"), FieldPanel("order"), FieldPanel("active")]),
            FieldPanel("repeat_window_days"),
            TargetsPanel(
                heading=_("时限目标"),
                help_text=_("每行一个时限；不需要的行留空。已开始计时的工单不受修改影响，新计时按修改后的目标。"),
            ),
        ],
        base_form_class=SLAPolicyForm,
    )
