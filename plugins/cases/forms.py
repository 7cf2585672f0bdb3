"""Forms of the case desk's admin: registering a case, the verbs on the case page, and the
category and calendar editors. The case forms only collect input: every change goes through
plugins/cases/services.py."""

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.widgets import AdminTimeInput
from wagtail.snippets.widgets import AdminSnippetChooser

from estates import scope
from estates.models import Building, Contractor, Department, Owner, Project, Unit
from estates.normalize import MobileFormField

from .models import (
    CaseAttachment,
    Category,
    Channel,
    Compensation,
    ComplaintGrade,
    Kind,
    PauseReason,
    Priority,
    WorkCalendarHours,
)
from .services import MAX_DESCRIPTION, MAX_TEXT

TEXTAREA = {"rows": 3}


# --- Register -----------------------------------------------------------------------------------


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_kind_display()} · {obj}"


class RegisterCaseForm(forms.Form):
    """登记工单. Units, buildings and owners are picked with Wagtail's choosers (never a select of
    every unit); all querysets are narrowed to the user's projects."""

    kind = forms.ChoiceField(label=_("类型"), choices=Kind.choices, widget=forms.RadioSelect, initial=Kind.REPAIR)
    channel = forms.ChoiceField(label=_("来源渠道"), choices=Channel.choices, initial=Channel.HOTLINE)
    category = CategoryChoiceField(label=_("分类"), queryset=Category.objects.none(), required=False)
    priority = forms.ChoiceField(label=_("紧急程度"), choices=Priority.choices, initial=Priority.NORMAL)
    complaint_grade = forms.ChoiceField(
        label=_("投诉等级"), choices=[("", "---------"), *ComplaintGrade.choices], required=False,
        help_text=_("仅投诉填写"),
    )
    project = forms.ModelChoiceField(
        label=_("项目"), queryset=Project.objects.none(), required=False,
        help_text=_("选了房号或楼栋时可不填，按其所属项目登记"),
    )
    unit = forms.ModelChoiceField(
        label=_("房号"), queryset=Unit.objects.none(), required=False, widget=AdminSnippetChooser(Unit)
    )
    building = forms.ModelChoiceField(
        label=_("楼栋"), queryset=Building.objects.none(), required=False, widget=AdminSnippetChooser(Building)
    )
    owner = forms.ModelChoiceField(
        label=_("业主"), queryset=Owner.objects.none(), required=False, widget=AdminSnippetChooser(Owner)
    )
    reporter_name = forms.CharField(label=_("报事人"), max_length=50)
    reporter_mobile = MobileFormField(label=_("联系电话"))
    description = forms.CharField(
        label=_("问题描述"), max_length=MAX_DESCRIPTION, widget=forms.Textarea(attrs={"rows": 5})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["category"].queryset = Category.objects.filter(active=True).select_related("parent")
        self.fields["project"].queryset = scope.projects_for(user)
        self.fields["unit"].queryset = scope.restrict(Unit.objects.all(), user)
        self.fields["building"].queryset = scope.restrict(Building.objects.all(), user)
        self.fields["owner"].queryset = scope.restrict(Owner.objects.all(), user)

    def clean(self):
        data = super().clean()
        unit, building = data.get("unit"), data.get("building")
        if not data.get("project"):
            if unit is not None:
                data["project"] = unit.project
            elif building is not None:
                data["project"] = building.project
            elif not self.has_error("project"):
                self.add_error("project", _("请选择项目，或选择房号。"))
        return data

    #: services.register's refusal codes → the field to show the message on.
    ERROR_FIELDS = {"unit": "unit", "building": "building", "category": "category", "scope": "project",
                    "kind": "kind", "invalid_mobile": "reporter_mobile"}


# --- Verbs on the case page ----------------------------------------------------------------------


class VerbForm(forms.Form):
    """The form of one verb on one case. ``case`` narrows the choices (dispatch)."""

    def __init__(self, *args, case, **kwargs):
        self.case = case
        super().__init__(*args, **kwargs)


def note_field(label=_("说明"), required=False):
    return forms.CharField(label=label, required=required, max_length=MAX_TEXT,
                           widget=forms.Textarea(attrs=TEXTAREA))


class NoteForm(VerbForm):
    note = note_field()


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


def assignable_staff(project):
    """Active staff who may handle cases and serve ``project``: a few per project, never every
    user. Superusers included (they serve all projects). The same people routing rules pick."""
    from .routing import eligible_staff

    return eligible_staff([project]).order_by("username")


def dispatch_options(case):
    """The option lists of the dispatch and third-party forms — departments, the project's
    active contractors, the staff who may handle its cases — in one query, kept on ``case``
    for the request (the case page's query budget)."""
    cached = getattr(case, "_dispatch_options", None)
    if cached is not None:
        return cached
    querysets = dispatch_querysets(case)
    labelled = [
        querysets["department"].order_by().annotate(_field=Value("department"), _label=F("name"), _sort=F("code")),
        querysets["contractor"].order_by().annotate(_field=Value("contractor"), _label=F("name"), _sort=F("name")),
        querysets["assignee"].order_by().annotate(
            _field=Value("assignee"),
            _label=Coalesce(NullIf(Trim(Concat(F("first_name"), Value(" "), F("last_name"))), Value("")),
                            F("username")),
            _sort=F("username"),
        ),
    ]
    rows = labelled[0].values_list("_field", "pk", "_label", "_sort").union(
        *(queryset.values_list("_field", "pk", "_label", "_sort") for queryset in labelled[1:]), all=True
    )
    options = {name: [] for name in querysets}
    for field, pk, label, _sort in sorted(rows, key=lambda row: (row[0], row[3])):
        options[field].append((pk, label))
    case._dispatch_options = options
    return options


def dispatch_querysets(case):
    return {
        "department": Department.objects.all(),
        "contractor": Contractor.objects.filter(projects=case.project_id, active=True),
        "assignee": assignable_staff(case.project_id),
    }


class OptionsMixin:
    """Model choice fields whose options come from ``dispatch_options`` (one query) while the
    querysets still validate what is posted."""

    option_fields = ()

    def set_options(self, excluded=()):
        querysets, options = dispatch_querysets(self.case), dispatch_options(self.case)
        for name in self.option_fields:
            field = self.fields[name]
            field.queryset = querysets[name]
            field.choices = [("", "---------")] + [(pk, label) for pk, label in options[name] if pk not in excluded]


class DispatchForm(OptionsMixin, VerbForm):
    department = forms.ModelChoiceField(label=_("责任部门"), queryset=Department.objects.none(), required=False)
    contractor = forms.ModelChoiceField(label=_("施工单位"), queryset=Contractor.objects.none(), required=False,
                                        help_text=_("只列出服务本项目、合作中的单位"))
    assignee = StaffChoiceField(label=_("处理人"), queryset=get_user_model().objects.none(), required=False,
                                help_text=_("只列出服务本项目、可以处理工单的员工"))
    note = note_field()
    option_fields = ("department", "contractor", "assignee")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        case = self.case
        self.initial.setdefault("department", case.department_id)
        self.initial.setdefault("contractor", case.contractor_id)
        self.initial.setdefault("assignee", case.assignee_id)
        self.set_options()

    def clean(self):
        data = super().clean()
        if not (data.get("department") or data.get("contractor") or data.get("assignee")) and not self.errors:
            raise forms.ValidationError(_("请选择派单对象（部门、施工单位或处理人）。"))
        return data


class PauseForm(VerbForm):
    reason = forms.ChoiceField(label=_("暂停原因"), choices=PauseReason.choices)
    note = note_field()


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; each is checked by content in plugins/cases/files.py."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,application/pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        items = data if isinstance(data, (list, tuple)) else [data] if data else []
        if self.required and not items:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


def files_field(label=_("照片或 PDF"), required=False):
    return MultipleFileField(label=label, required=required,
                             help_text=_("可多选；照片（JPG、PNG、HEIC 等）或 PDF，最多 9 个"))


class CompleteForm(VerbForm):
    result = note_field(_("处理结果"), required=True)
    photos = files_field(_("完工照片"))


class TextForm(VerbForm):
    """One required text: an answer, a department's reply, a re-check result."""

    text = note_field(_("内容"), required=True)


class AttachForm(VerbForm):
    files = files_field(required=True)
    purpose = forms.ChoiceField(label=_("用途"), choices=CaseAttachment.Purpose.choices,
                                initial=CaseAttachment.Purpose.OTHER)
    visible_to_owner = forms.BooleanField(label=_("业主可见"), required=False)
    note = note_field()


def amount_field(label):
    return forms.DecimalField(label=label, max_digits=9, decimal_places=2, min_value=Decimal("0.01"),
                              max_value=Decimal("9999999.99"))


class CompensationForm(VerbForm):
    amount = amount_field(_("赔付金额（元）"))
    reason = forms.CharField(label=_("赔付原因"), max_length=MAX_TEXT, widget=forms.Textarea(attrs=TEXTAREA))


class CompensationDecisionForm(VerbForm):
    """Approve or reject one of the case's pending requests that this user did not make."""

    compensation = forms.ModelChoiceField(label=_("赔付申请"), queryset=Compensation.objects.none())
    approve = forms.TypedChoiceField(label=_("审批"), choices=[("yes", _("批准")), ("no", _("驳回"))],
                                     coerce=lambda value: value == "yes", widget=forms.RadioSelect, initial="yes")
    note = note_field(_("审批意见"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compensation"].queryset = Compensation.objects.filter(
            case=self.case, state=Compensation.State.REQUESTED)
        self.fields["compensation"].label_from_instance = lambda item: f"¥{item.amount} · {item.reason[:30]}"


class DepositChargeForm(VerbForm):
    amount = amount_field(_("扣款金额（元）"))
    evidence = forms.CharField(label=_("扣款依据"), max_length=MAX_TEXT, widget=forms.Textarea(attrs=TEXTAREA),
                               help_text=_("第三方的报价、完工验收等；凭证文件可一并上传"))
    files = files_field(_("凭证文件"))


class ReasonForm(VerbForm):
    reason = forms.CharField(label=_("原因"), max_length=MAX_TEXT, widget=forms.Textarea(attrs=TEXTAREA))


class WorkLinkForm(VerbForm):
    renew = forms.TypedChoiceField(
        label=_("操作"), choices=[("yes", _("重新发送新链接（旧链接作废）")), ("no", _("只作废，不发新链接"))],
        coerce=lambda value: value == "yes", initial="yes", widget=forms.RadioSelect)
    reason = forms.CharField(label=_("原因"), max_length=200)


class CancelForm(VerbForm):
    reason = forms.CharField(label=_("取消原因"), max_length=MAX_TEXT)


class AddNoteForm(VerbForm):
    text = note_field(_("备注"), required=True)
    visible_to_owner = forms.BooleanField(label=_("业主可见"), required=False,
                                          help_text=_("勾选后业主在“我的家”里能看到这条备注"))


class ContactForm(VerbForm):
    reached = forms.BooleanField(label=_("已联系上业主"), required=False, initial=True)
    note = note_field(_("联系情况"))
    visible_to_owner = forms.BooleanField(label=_("业主可见"), required=False)


YES_NO = [("yes", _("通过")), ("no", _("不通过"))]


class SignOffForm(VerbForm):
    accepted = forms.TypedChoiceField(label=_("业主验收"), choices=YES_NO, coerce=lambda value: value == "yes",
                                      widget=forms.RadioSelect, initial="yes")
    reason = note_field(_("不满意的原因"))


class CallbackForm(VerbForm):
    reached = forms.BooleanField(label=_("已联系上业主"), required=False, initial=True)
    score = forms.TypedChoiceField(label=_("满意度评分"), choices=[("", "—")] + [(str(n), str(n)) for n in range(1, 6)],
                                   coerce=int, empty_value=None, required=False, widget=forms.RadioSelect)
    remark = note_field(_("回访记录"))


class ThirdPartyForm(OptionsMixin, VerbForm):
    contractor = forms.ModelChoiceField(label=_("第三方施工单位"), queryset=Contractor.objects.none(),
                                        help_text=_("只列出服务本项目、合作中的单位"))
    reason = forms.CharField(label=_("原因"), max_length=MAX_TEXT, widget=forms.Textarea(attrs=TEXTAREA))
    option_fields = ("contractor",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_options(excluded={self.case.contractor_id})


# --- Category and calendar editors ---------------------------------------------------------------


class CategoryForm(WagtailAdminModelForm):
    """Two levels: a parent is a top-level category of the same kind."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "parent" in self.fields:
            parents = Category.objects.filter(parent__isnull=True)
            if self.instance.pk:
                parents = parents.exclude(pk=self.instance.pk)
            self.fields["parent"].queryset = parents

    def clean(self):
        data = super().clean()
        parent, kind = data.get("parent"), data.get("kind")
        if parent is not None:
            if kind and parent.kind != kind:
                self.add_error("parent", _("上级分类的类型必须与本分类相同。"))
            if self.instance.pk and self.instance.children.exists():
                self.add_error("parent", _("本分类已有下级分类，不能再设上级（分类最多两级）。"))
        return data


WEEKDAYS = WorkCalendarHours._meta.get_field("weekday").choices


def _hours_fields():
    fields = {}
    for day, label in WEEKDAYS:
        fields[f"day{day}_start"] = forms.TimeField(
            label=_("%(day)s上班") % {"day": label}, required=False, widget=AdminTimeInput()
        )
        fields[f"day{day}_end"] = forms.TimeField(
            label=_("%(day)s下班") % {"day": label}, required=False, widget=AdminTimeInput()
        )
    return fields


#: The weekday grid's field names, for the panels: [(start, end) per weekday].
HOURS_FIELD_NAMES = [(f"day{day}_start", f"day{day}_end") for day, _label in WEEKDAYS]


class BaseWorkCalendarForm(WagtailAdminModelForm):
    """A calendar with its working hours as a weekday grid (a day left empty is not worked).
    Saving writes the WorkCalendarHours rows of the calendar."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for row in self.instance.hours.all():
                self.initial.setdefault(f"day{row.weekday}_start", row.start)
                self.initial.setdefault(f"day{row.weekday}_end", row.end)

    def clean(self):
        data = super().clean()
        for day, label in WEEKDAYS:
            start, end = data.get(f"day{day}_start"), data.get(f"day{day}_end")
            if (start is None) != (end is None):
                self.add_error(f"day{day}_end" if end is None else f"day{day}_start",
                               _("请同时填写上班和下班时间，或都不填（不上班）。"))
            elif start is not None and end <= start:
                self.add_error(f"day{day}_end", _("下班时间必须晚于上班时间。"))
        if not data.get("always") and not self.errors and not any(
            data.get(f"day{day}_start") for day, _label in WEEKDAYS
        ):
            self.add_error(None, _("请至少填写一天的工作时间，或勾选“全天候”。"))
        return data

    def weekly_hours(self):
        return {
            day: (self.cleaned_data[f"day{day}_start"], self.cleaned_data[f"day{day}_end"])
            for day, _label in WEEKDAYS
            if self.cleaned_data.get(f"day{day}_start") is not None
        }

    def save(self, commit=True):
        calendar = super().save(commit=commit)
        if commit:
            self.save_hours(calendar)
        return calendar

    def save_hours(self, calendar):
        wanted = self.weekly_hours()
        existing = {row.weekday: row for row in calendar.hours.all()}
        for day, row in existing.items():
            if day not in wanted:
                row.delete()
        for day, (start, end) in wanted.items():
            row = existing.get(day)
            if row is None:
                WorkCalendarHours.objects.create(calendar=calendar, weekday=day, start=start, end=end)
            elif (row.start, row.end) != (start, end):
                row.start, row.end = start, end
                row.save(update_fields=["start", "end"])


WorkCalendarForm = type("WorkCalendarForm", (BaseWorkCalendarForm,), {**_hours_fields(), "__module__": __name__})
