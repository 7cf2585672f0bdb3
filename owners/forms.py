from django import forms
from django.utils.translation import gettext_lazy as _


class MobileForm(forms.Form):
    mobile = forms.CharField(
        label=_("手机号"), max_length=20,
        error_messages={"required": _("请输入手机号。")},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "13800138000"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("验证码"), max_length=12,
        error_messages={"required": _("请输入短信中的 6 位数字验证码。")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
