"""Forms of the owner's and the contractor's pages (outside the admin)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .files import MAX_FILES


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to MAX_FILES photos; checked by content later by the verb (plugins/cases/files.py)."""

    widget = MultipleFileInput(attrs={"accept": "image/*"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        items = data if isinstance(data, (list, tuple)) else [data] if data else []
        if len(items) > MAX_FILES:
            raise forms.ValidationError(_("一次最多上传 %(limit)s 个文件。"), params={"limit": MAX_FILES})
        return [super(PhotosField, self).clean(item, initial) for item in items]


class FollowForm(forms.Form):
    number = forms.CharField(
        label=_("工单号"), max_length=24, error_messages={"required": _("请输入工单号。")},
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "placeholder": "BX20261123-0007"}),
    )
    last4 = forms.RegexField(
        label=_("报事手机号后 4 位"), regex=r"^\s*\d{4}\s*$", max_length=8,
        error_messages={"required": _("请输入手机号后 4 位。"), "invalid": _("请输入手机号的后 4 位数字。")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_number(self):
        return self.cleaned_data["number"].strip().upper()

    def clean_last4(self):
        return self.cleaned_data["last4"].strip()


class MessageForm(forms.Form):
    text = forms.CharField(label=_("留言"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"required": _("请填写留言内容。")})
    photos = PhotosField(label=_("照片（可选）"))


class SignOffForm(forms.Form):
    accepted = forms.TypedChoiceField(
        label=_("验收结果"), choices=[("yes", _("满意，验收通过")), ("no", _("不满意，需要返修"))],
        coerce=lambda value: value == "yes", widget=forms.RadioSelect,
        error_messages={"required": _("请选择验收结果。")},
    )
    reason = forms.CharField(label=_("不满意的原因"), max_length=500, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    photos = PhotosField(label=_("照片（可选）"))

    def clean(self):
        data = super().clean()
        if data.get("accepted") is False and not (data.get("reason") or "").strip():
            self.add_error("reason", _("请写明不满意的原因，便于我们安排返修。"))
        return data


class RateForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("满意度"), choices=[(str(n), str(n)) for n in range(5, 0, -1)], coerce=int,
        widget=forms.RadioSelect, error_messages={"required": _("请选择 1 到 5 分。"),
                                                  "invalid_choice": _("请选择 1 到 5 分。")},
    )
    comment = forms.CharField(label=_("评价（可选）"), max_length=500, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))


class DoneForm(forms.Form):
    result = forms.CharField(label=_("处理结果"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("请填写处理结果。")})
    before = PhotosField(label=_("维修前照片"))
    photos = PhotosField(label=_("维修后照片"))
