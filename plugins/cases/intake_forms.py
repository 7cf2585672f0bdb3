"""来电登记's registration form: what the agent types while the caller is on the line.

The form only collects and checks input; ``intake.register_once`` calls ``services.register``
(the one way to change state). Everything is resolved against lists the page has already
loaded — the agent's projects (estates.scope) and the active categories — so a re-rendered page
costs no extra query, and a value from outside them gets a Chinese message rather than a 500:

- project: one of the agent's projects. An id outside them is not a typing mistake but a
  forged or stale request, so the view answers 404 (``not_found``), as every scoped admin page.
- unit: typed as its label ("3-2-1502") within the project, or filled in by picking a unit
  from the look-up; a label the project does not have is a field error.
- category: required, active, and of the chosen kind. Categories are one tree for all
  projects in this codebase (``Category`` has no project), so "another project's category"
  cannot happen; an inactive or another kind's category is refused with its name.
- priority: an emergency category (``Category.emergency``) is always registered as 紧急 —
  ``services.register`` enforces it whatever is posted, so the form says so and shows it rather
  than pretend the agent could lower it (``priority_raised``).
- owner: the owner picked in the look-up, linked only while they currently own the chosen
  unit (a case linked to an owner shows on that owner's portal); a caller with no owner record
  is kept as the reporter (name and mobile), with no owner.
"""

import re
import uuid

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from estates import scope
from estates.models import Owner, Ownership, Unit
from estates.normalize import MobileFormField, clean_text

from .models import Category, Channel, ComplaintGrade, Kind, Priority
from .services import MAX_DESCRIPTION

#: The idempotency token: 32 hex digits (uuid4), stored on the case as ``source``.
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


def new_token():
    return uuid.uuid4().hex


def _pk(value):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def normalize_label(text):
    """"3 - 2 - 1502", full-width "３－２－１５０２" → "3-2-1502"."""
    return re.sub(r"\s+", "", clean_text(text))


class IntakeRegisterForm(forms.Form):
    """登记新工单 on the intake page. ``projects`` and ``categories`` are the lists the page
    shows (the agent's projects, the active categories)."""

    token = forms.CharField(required=False, widget=forms.HiddenInput)
    project = forms.CharField(label=_("项目"), error_messages={"required": _("请选择项目。")})
    unit_label = forms.CharField(label=_("房号"), required=False, max_length=60,
                                 help_text=_("楼栋-单元-房号，如 3-2-1502；公共区域可不填"))
    owner = forms.CharField(label=_("关联业主"), required=False)
    # The owner the look-up offered (the checkbox's value), kept so an unticked box can be
    # ticked again after a re-rendered page. Display only; ``owner`` is what counts.
    owner_offer = forms.CharField(required=False, widget=forms.HiddenInput)
    reporter_name = forms.CharField(label=_("来电人"), max_length=50,
                                    error_messages={"required": _("请填写来电人姓名。")})
    reporter_mobile = MobileFormField(label=_("来电号码"), error_messages={"required": _("请填写来电号码。")})
    channel = forms.ChoiceField(label=_("来源渠道"), choices=Channel.choices, initial=Channel.HOTLINE)
    kind = forms.ChoiceField(label=_("类型"), choices=Kind.choices, initial=Kind.REPAIR,
                             error_messages={"required": _("请选择工单类型。")})
    category = forms.CharField(label=_("分类"), error_messages={"required": _("请选择分类。")})
    priority = forms.ChoiceField(label=_("紧急程度"), choices=Priority.choices, initial=Priority.NORMAL)
    complaint_grade = forms.ChoiceField(label=_("投诉等级"), choices=[("", "---------"), *ComplaintGrade.choices],
                                        required=False, initial=ComplaintGrade.GENERAL)
    description = forms.CharField(label=_("问题描述"), max_length=MAX_DESCRIPTION,
                                  error_messages={"required": _("请填写问题描述。")})
    confirm_new = forms.BooleanField(label=_("仍登记为新工单"), required=False)

    #: The fields in tab order; the first empty one gets the focus.
    FOCUS_ORDER = ("project", "unit_label", "reporter_name", "reporter_mobile", "category", "description")

    def __init__(self, *args, user, projects, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.projects = {project.pk: project for project in projects}
        self.categories = {category.pk: category for category in categories}
        self.not_found = False  # a project or owner id outside the agent's scope: a 404
        self.priority_raised = False
        self.unit = self.owner_obj = None

    # --- Field by field ---------------------------------------------------------------------

    def clean_project(self):
        project = self.projects.get(_pk(self.cleaned_data["project"]))
        if project is None:
            self.not_found = True
            raise forms.ValidationError(gettext("项目不存在，或不在您负责的项目内。"), code="scope")
        return project

    def clean_category(self):
        pk = _pk(self.cleaned_data["category"])
        category = self.categories.get(pk)
        if category is None:
            gone = Category.objects.filter(pk=pk).first() if pk else None
            if gone is not None:
                raise forms.ValidationError(
                    gettext("分类“%(name)s”已停用，请重新选择。") % {"name": gone.name}, code="inactive")
            raise forms.ValidationError(gettext("请选择有效的分类。"), code="invalid")
        return category

    def clean_owner(self):
        value = self.cleaned_data["owner"].strip()
        if not value:
            return None
        pk = _pk(value)
        if pk is None:
            raise forms.ValidationError(gettext("请从查找结果中选择业主。"), code="invalid")
        owner = scope.restrict(Owner.objects.filter(pk=pk), self.user).first()
        if owner is None:
            self.not_found = True
            raise forms.ValidationError(gettext("业主不存在，或不在您负责的项目内。"), code="scope")
        return owner

    def clean_description(self):
        text = self.cleaned_data["description"].replace("\x00", "").strip()
        if not text:
            raise forms.ValidationError(gettext("请填写问题描述。"), code="required")
        return text

    def clean_reporter_name(self):
        name = clean_text(self.cleaned_data["reporter_name"])
        if not name:
            raise forms.ValidationError(gettext("请填写来电人姓名。"), code="required")
        return name

    # --- Across fields -----------------------------------------------------------------------

    def clean(self):
        data = super().clean()
        project, kind, category = data.get("project"), data.get("kind"), data.get("category")
        if category is not None and kind and category.kind != kind:
            self.add_error("category", gettext("分类“%(name)s”属于%(its)s，与所选类型“%(kind)s”不符，请重新选择。") % {
                "name": category, "its": category.get_kind_display(), "kind": Kind(kind).label})
        label = normalize_label(data.get("unit_label", ""))
        data["unit_label"] = label
        if label and project is not None:
            self.unit = self._unit(project, label)
            if self.unit is None:
                self.add_error("unit_label", gettext(
                    "项目“%(project)s”内没有房号“%(label)s”：请核对楼栋-单元-房号（如 3-2-1502），公共区域可不填。"
                ) % {"project": project.name, "label": label})
        data["unit"] = self.unit
        owner = data.get("owner")
        if owner is not None and self.unit is not None and not Ownership.objects.filter(
                owner=owner, unit=self.unit, end__isnull=True).exists():
            self.add_error("owner", gettext(
                "%(name)s不是房号 %(label)s 的当前业主：请取消勾选“关联业主”（来电人仍作为报事人登记），或改选其名下房号。"
            ) % {"name": owner.name, "label": self.unit.label})
        if kind == Kind.COMPLAINT and not data.get("complaint_grade"):
            self.add_error("complaint_grade", gettext("投诉请选择投诉等级。"))
        if category is not None and category.emergency and data.get("priority") != Priority.EMERGENCY:
            # services.register would raise it anyway: say so on the page.
            data["priority"] = Priority.EMERGENCY
            self.priority_raised = True
        return data

    def _unit(self, project, label):
        units = Unit.objects.filter(project=project)
        unit = units.filter(label=label).first()
        if unit is None and label != label.upper():
            unit = units.filter(label=label.upper()).first()  # "a-1-101" typed for "A-1-101"
        return unit

    # --- For the template ----------------------------------------------------------------------

    def value(self, name):
        value = self[name].value()
        return "" if value is None else str(value)

    def focus_field(self):
        """The field the cursor goes to: the first with an error, else the first empty one."""
        if self.is_bound and self.errors:
            for name in (*self.FOCUS_ORDER, *self.fields):
                if name in self.errors:
                    return name
        for name in self.FOCUS_ORDER:
            if not self.value(name).strip():
                return name
        return "description"
