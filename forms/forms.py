"""The owner-facing form of a service page: fixed fields every page has, plus the fields an
editor adds with Wagtail's form builder.

Project → building → unit is three selects whose choices come from the registry. Without
JavaScript the owner picks a project, presses "更新选项" (a submit button that re-renders the form
without validating it) and gets that project's buildings, then the building's units; a small
script (site/static/js/unit-picker.js) fills the next select in place. Whatever the browser
sends, the server only accepts a building of the chosen project and a unit of the chosen
building: forged or stale ids become a Chinese form error.
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.contrib.forms.forms import BaseForm, FormBuilder, WagtailAdminFormPageForm

from estates.models import Building, Unit
from estates.normalize import normalize_mobile

from . import uploads

NAME_MAX_LENGTH = 50
TEXT_MAX_LENGTH = 2000  # the description and any multi-line field an editor adds

#: Names the fixed fields, the listing columns and the page's own parameters use; an editor's
#: field may not take one of them (its label is refused in the page editor).
RESERVED_NAMES = frozenset(
    {
        "project", "building", "unit", "name", "mobile", "description", "photos", "consent",
        "channel", "kind", "reference", "submit_time", "csrfmiddlewaretoken", "_refresh",
        "choices", "done",
    }
)
FIXED_ORDER_BEFORE = ["project", "building", "unit", "name", "mobile", "description"]
FIXED_ORDER_AFTER = ["photos", "consent", "channel"]
CHANNELS = ("web", "qr")


def natural_key(text):
    """"3-2-902" before "3-2-1502", "2" before "10"."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part]


def parse_pk(value):
    """An id from a request parameter, or None. Refuses anything but a plain positive integer
    small enough for a bigint column (a 40-digit id must not reach the database)."""
    text = str(value or "").strip()
    if text.isascii() and text.isdigit() and 0 < len(text) <= 18:
        return int(text)
    return None


class Location:
    """The choices for the three selects and what is selected: the page's projects (loaded once
    per page instance), then one query for the project's buildings and one for the building's
    units."""

    def __init__(self, page, project_value, building_value, unit_value=None):
        fixed_project = page.fixed_project
        self.projects = [fixed_project] if fixed_project is not None else page.projects
        project_pk = fixed_project.pk if fixed_project is not None else parse_pk(project_value)
        self.project = next((p for p in self.projects if p.pk == project_pk), None)
        self.buildings = []
        if self.project is not None:
            self.buildings = sorted(
                # Sorted here: the models' default ordering would join the project table.
                Building.objects.filter(project=self.project).only("id", "code", "name", "project_id").order_by(),
                key=lambda b: natural_key(b.code),
            )
        building_pk = parse_pk(building_value)
        self.building = next((b for b in self.buildings if b.pk == building_pk), None)
        self.units = []
        if self.building is not None:
            self.units = sorted(
                Unit.objects.filter(building=self.building, project=self.project)
                .only("id", "label", "building_id", "project_id")
                .order_by(),
                key=lambda u: natural_key(u.label),
            )
        unit_pk = parse_pk(unit_value)
        self.unit = next((u for u in self.units if u.pk == unit_pk), None)

    def as_json(self):
        return {
            "buildings": [{"id": b.pk, "name": b.name} for b in self.buildings],
            "units": [{"id": u.pk, "label": u.label} for u in self.units],
        }


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.Field):
    """Any number of files under one name; ``uploads.check_images`` decides what is acceptable."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, data):
        if not data:
            return []
        files = data if isinstance(data, (list, tuple)) else [data]
        return [f for f in files if f]

    def validate(self, value):
        pass

    def bound_data(self, data, initial):
        return initial  # a file input never shows a value

    def has_changed(self, initial, data):
        return bool(data)


def _select(label, required_message, invalid_message, required=True):
    return forms.ChoiceField(
        label=label,
        required=required,
        choices=[],
        error_messages={"required": required_message, "invalid_choice": invalid_message},
    )


class ServiceForm(BaseForm):
    """Fixed fields. ``page`` (a ServiceFormPage) is passed by Wagtail's FormMixin.get_form."""

    project = _select(_("项目"), _("请选择项目。"), _("所选项目不存在，请重新选择。"))
    building = _select(_("楼栋"), _("请选择楼栋。"), _("所选楼栋不属于该项目，请重新选择。"))
    unit = _select(_("房号"), _("请选择房号。"), _("所选房号不属于该楼栋，请重新选择。"))
    name = forms.CharField(
        label=_("姓名"),
        max_length=NAME_MAX_LENGTH,
        error_messages={
            "required": _("请填写姓名。"),
            "max_length": _("姓名最多 %(limit_value)d 个字（现在 %(show_value)d 个）。"),
        },
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    mobile = forms.CharField(
        label=_("手机号"),
        max_length=20,
        help_text=_("11 位中国大陆手机号，客服将通过此号码联系您。"),
        error_messages={
            "required": _("请填写手机号。"),
            "max_length": _("手机号太长，应为 11 位中国大陆手机号。"),
        },
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    description = forms.CharField(
        label=_("问题描述"),
        max_length=TEXT_MAX_LENGTH,
        error_messages={
            "required": _("请描述您的问题。"),
            "max_length": _("问题描述最多 %(limit_value)d 个字（现在 %(show_value)d 个），请精简后再提交。"),
        },
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    photos = PhotosField(
        label=_("照片"),
        # Keep the numbers in step with uploads.MAX_FILES and MAX_BYTES (a test checks).
        help_text=_("最多 6 张，每张不超过 10 MB；支持 JPG、PNG、WebP、GIF 和 iPhone 的 HEIC 照片。"),
        widget=MultipleFileInput(attrs={"accept": "image/*"}),
    )
    consent = forms.BooleanField(
        label=_("我已阅读并同意上述说明"),
        error_messages={"required": _("请阅读说明并勾选“同意”后再提交。")},
    )
    channel = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)  # BaseForm takes ``page`` and ``user``
        page = self.page  # always given: the form's choices depend on where the page sits
        self.fixed_project = page.fixed_project
        self.location = Location(page, self._raw("project"), self._raw("building"), self._raw("unit"))
        project_field = self.fields["project"]
        if self.fixed_project is not None:
            project_field.choices = [(str(self.fixed_project.pk), self.fixed_project.name)]
            project_field.widget = forms.HiddenInput()
            self.initial["project"] = str(self.fixed_project.pk)
        else:
            project_field.choices = [("", _("请选择项目"))] + [
                (str(p.pk), p.name) for p in self.location.projects
            ]
        # The unit picker script reads its placeholders from here, so they are translated too.
        self.fields["building"].widget.attrs.update(
            {"data-placeholder": _("请选择楼栋"), "data-placeholder-none": _("请先选择项目")}
        )
        self.fields["unit"].widget.attrs.update(
            {"data-placeholder": _("请选择房号"), "data-placeholder-none": _("请先选择楼栋")}
        )
        building_placeholder = _("请选择楼栋") if self.location.project else _("请先选择项目")
        self.fields["building"].choices = [("", building_placeholder)] + [
            (str(b.pk), b.name) for b in self.location.buildings
        ]
        unit_placeholder = _("请选择房号") if self.location.building else _("请先选择楼栋")
        self.fields["unit"].choices = [("", unit_placeholder)] + [
            (str(u.pk), u.label) for u in self.location.units
        ]
        # An enquiry may come from someone without a home yet; repairs and complaints need one.
        if not page.unit_required:
            self.fields["building"].required = False
            self.fields["unit"].required = False
        extras = [name for name in self.fields if name not in FIXED_ORDER_BEFORE + FIXED_ORDER_AFTER]
        self.order_fields(FIXED_ORDER_BEFORE + extras + FIXED_ORDER_AFTER)

    def _raw(self, name):
        if self.is_bound:
            return self.data.get(self.add_prefix(name))
        value = self.initial.get(name)
        return value if value is not None else self.fields[name].initial

    @property
    def extra_field_names(self):
        return [name for name in self.fields if name not in RESERVED_NAMES]

    def clean_mobile(self):
        return normalize_mobile(self.cleaned_data["mobile"])

    def clean_photos(self):
        return uploads.check_images(self.cleaned_data.get("photos") or [])

    def clean_channel(self):
        value = self.cleaned_data.get("channel")
        return value if value in CHANNELS else "web"

    def clean(self):
        cleaned = super().clean()
        # One message for the first wrong level, not one per level below it.
        if "project" in self.errors:
            self.errors.pop("building", None)
            self.errors.pop("unit", None)
        elif "building" in self.errors:
            self.errors.pop("unit", None)
        location = self.location
        cleaned["project"] = location.project if "project" not in self.errors else None
        cleaned["building"] = location.building if cleaned.get("building") else None
        cleaned["unit"] = location.unit if cleaned.get("unit") else None
        unit = cleaned["unit"]
        if unit is not None and (
            unit.building_id != getattr(location.building, "pk", None)
            or unit.project_id != getattr(location.project, "pk", None)
        ):
            # Cannot happen through the choices; kept as the invariant's last line of defence.
            self.add_error("unit", _("所选房号不属于该楼栋，请重新选择。"))
        return cleaned

    def extra_data(self):
        """The editor's fields, for the submission's JSON column."""
        return {name: self.cleaned_data.get(name) for name in self.extra_field_names}


class ServiceFormBuilder(FormBuilder):
    """Wagtail's builder on top of ServiceForm; multi-line fields get a length cap too."""

    def create_multiline_field(self, field, options):
        options["max_length"] = TEXT_MAX_LENGTH
        return super().create_multiline_field(field, options)

    def get_form_class(self):
        extras = {name: field for name, field in self.formfields.items() if name not in RESERVED_NAMES}
        return type("ServiceForm", (ServiceForm,), extras)


class ServiceFormPageAdminForm(WagtailAdminFormPageForm):
    """The page editor: an added field may not shadow a fixed one."""

    def clean(self):
        cleaned_data = super().clean()
        formset = self.formsets.get("form_fields")
        for form in formset.forms if formset is not None else []:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            if not form.instance.label:
                continue
            clean_name = form.instance.clean_name or form.instance.get_field_clean_name()
            if clean_name in RESERVED_NAMES:
                form.add_error(
                    "label",
                    ValidationError(
                        _("“%(label)s”与表单的固定字段重名，请换一个名称。"),
                        params={"label": form.instance.label},
                    ),
                )
        return cleaned_data
