"""Public open-day registration pages: register for a slot, see the confirmation, cancel.

Every change goes through home.opendays (the services); these views only collect input, rate
limit it and show results. They work without JavaScript: plain forms, POST-redirect-GET.

Rate limits (django-ratelimit on the default cache: Redis when REDIS_URL is set) are deployment
choices; the settings OPENDAY_RATE_* override the defaults below. Behind a proxy, set
RATELIMIT_IP_META_KEY so that "ip" means the client, not the proxy.
"""

import re

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from estates.normalize import mask_mobile, normalize_mobile

from . import opendays as services
from .models import OpenDayPage, OpenDayRegistration, OpenDaySlot

SESSION_KEY = "openday_codes"  # registration codes this browser registered or proved (code + mobile)
SESSION_KEEP = 20

RATE_DEFAULTS = {
    "OPENDAY_RATE_REGISTER_IP": "10/m",  # POSTs to the registration form per client IP
    "OPENDAY_RATE_REGISTER_MOBILE": "5/h",  # registration attempts per mobile number
    "OPENDAY_RATE_CANCEL_IP": "10/m",
    "OPENDAY_RATE_CANCEL_MOBILE": "5/h",
    "OPENDAY_RATE_LOOKUP_IP": "60/m",  # confirmation pages viewed per IP (codes are not enumerable)
}

CODE_RE = re.compile(r"^[A-Z0-9]{4,12}$")


def rate(name):
    return getattr(settings, name, RATE_DEFAULTS[name])


def limited(request, group, key, rate_name, method="POST"):
    """Count this request against the limit and say whether it is over it."""
    return is_ratelimited(
        request, group=group, key=key, rate=rate(rate_name), method=method, increment=True
    )


def too_many_requests(request):
    response = render(request, "home/openday/ratelimited.html", status=429)
    response["Retry-After"] = "60"
    return response


def remember_code(request, code):
    codes = [c for c in request.session.get(SESSION_KEY, []) if c != code]
    request.session[SESSION_KEY] = (codes + [code])[-SESSION_KEEP:]


def mask_text(value):
    """张三丰 → 张**; for pages seen without the session that made the registration."""
    value = value or ""
    if len(value) <= 1:
        return "*" if value else ""
    return value[0] + "*" * min(len(value) - 1, 3)


# --- Forms ---------------------------------------------------------------------------------


def text_errors(label):
    """Plain Chinese messages that name the field (Django's defaults speak of "该变量").
    Lazy, so each request sees its own language."""
    return {
        "required": format_lazy(gettext_lazy("请填写{label}。"), label=label),
        "max_length": format_lazy(
            gettext_lazy("{label}最多 %(limit_value)d 个字符（现在 %(show_value)d 个）。"), label=label
        ),
        "null_characters_not_allowed": format_lazy(gettext_lazy("{label}不能包含空字符。"), label=label),
    }


def text_field(label, **kwargs):
    return forms.CharField(label=label, error_messages=text_errors(label), **kwargs)


class MobileField(forms.CharField):
    """A mainland mobile in any common form (+86, spaces, dashes, full-width digits)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault("error_messages", text_errors(kwargs["label"]))
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        return normalize_mobile(value)


class RegistrationForm(forms.Form):
    name = text_field(
        gettext_lazy("姓名"),
        max_length=50,
        help_text=gettext_lazy("业主或到场联系人的姓名"),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    mobile = MobileField(
        label=gettext_lazy("手机号"),
        help_text=gettext_lazy("中国大陆手机号，可带 +86、空格或短横线；用于核对和取消报名"),
    )
    unit_or_contract = text_field(
        gettext_lazy("房号或合同号"),
        max_length=50,
        help_text=gettext_lazy("如 3幢2单元1502，或购房合同编号"),
    )
    remark = text_field(
        gettext_lazy("备注"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("选填，200 字以内，如需要轮椅或携带儿童"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    field_order = ["name", "mobile", "unit_or_contract", "party_size", "remark"]

    def __init__(self, *args, slot, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        limit = slot.max_party_size
        seats_left = getattr(slot, "seats_left", limit)
        self.fields["party_size"] = forms.IntegerField(
            label=_("到场人数"),
            min_value=1,
            max_value=limit,
            initial=1,
            help_text=_("含本人；本场次每份报名最多 %(max)s 人") % {"max": limit},
            error_messages={
                "required": _("请填写到场人数。"),
                "invalid": _("请填写到场人数（数字）。"),
                "min_value": _("到场人数至少为 1 人。"),
                "max_value": _("本场次每份报名最多 %(limit_value)s 人。"),
            },
            widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        )
        if 0 < seats_left < limit:
            self.fields["party_size"].widget.attrs["max"] = seats_left
        self.order_fields(self.field_order)


class CancelForm(forms.Form):
    code = text_field(
        gettext_lazy("报名码"),
        max_length=20,
        help_text=gettext_lazy("报名成功页面上的 8 位报名码，不区分大小写"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    mobile = MobileField(label=gettext_lazy("报名时填写的手机号"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_code(self):
        code = re.sub(r"[\s\-]", "", self.cleaned_data["code"]).upper()
        if not CODE_RE.match(code):
            raise ValidationError(_("报名码格式不对：应为 8 位字母和数字。"), code="invalid_code")
        return code


#: Which form field a service refusal belongs to (others are shown above the form).
FIELD_FOR_CODE = {
    "invalid_mobile": "mobile",
    services.Refusal.DUPLICATE_MOBILE: "mobile",
    services.Refusal.PARTY_TOO_LARGE: "party_size",
    services.Refusal.PARTY_TOO_SMALL: "party_size",
    services.Refusal.NOT_ENOUGH_SEATS: "party_size",
}


def attach_error(form, error):
    """Show a service's ValidationError on the form, on the field it concerns where known."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return
    for item in error.error_list:
        field = FIELD_FOR_CODE.get(item.code)
        form.add_error(field if field in form.fields else None, item)


# --- Views ---------------------------------------------------------------------------------


def public_slot_or_404(slot_id):
    """The slot with its seats, if its open-day page is published and public."""
    queryset = OpenDaySlot.with_seats(OpenDaySlot.objects.select_related("page", "page__project"))
    slot = get_object_or_404(queryset, pk=slot_id)
    if not OpenDayPage.objects.filter(pk=slot.page_id).live().public().exists():
        raise Http404
    return slot


def closed_reason(slot):
    if services.has_started(slot):
        return _("该场次已开始或已结束，不能再报名。")
    if slot.seats_left <= 0:
        return _("很抱歉，该场次名额已满，请选择其他场次。")
    return ""


@never_cache
@require_http_methods(["GET", "POST"])
def register_view(request, slot_id):
    slot = public_slot_or_404(slot_id)
    status = 200
    if request.method == "POST":
        if limited(request, "openday-register-ip", "ip", "OPENDAY_RATE_REGISTER_IP"):
            return too_many_requests(request)
        form = RegistrationForm(request.POST, slot=slot)
        if form.is_valid():
            mobile = form.cleaned_data["mobile"]
            if limited(request, "openday-register-mobile", lambda group, request: mobile,
                       "OPENDAY_RATE_REGISTER_MOBILE"):
                return too_many_requests(request)
            try:
                registration = services.register(slot, **form.cleaned_data)
            except ValidationError as error:
                attach_error(form, error)
            else:
                remember_code(request, registration.code)
                messages.success(request, _("报名成功，请保存好您的报名码。"))
                return redirect("openday_done", code=registration.code)
        status = 400
        slot = public_slot_or_404(slot_id)  # seats may have changed while the form was open
    else:
        form = RegistrationForm(slot=slot)
    context = {
        "slot": slot,
        "open_day": slot.page,
        "form": form,
        "closed_reason": closed_reason(slot),
        "page_title": _("报名：%(title)s") % {"title": slot.page.title},
    }
    return render(request, "home/openday/register.html", context, status=status)


@never_cache
@require_http_methods(["GET"])
def done_view(request, code):
    if limited(request, "openday-lookup-ip", "ip", "OPENDAY_RATE_LOOKUP_IP", method="GET"):
        return too_many_requests(request)
    code = code.upper()
    registration = get_object_or_404(
        OpenDayRegistration.objects.select_related("slot", "slot__page", "slot__page__project"),
        code=code,
    )
    # Full details only for the browser that registered (or proved code + mobile); anyone
    # else holding the link sees the event and masked personal data.
    is_owner = code in request.session.get(SESSION_KEY, [])
    slot = registration.slot
    context = {
        "registration": registration,
        "slot": slot,
        "open_day": slot.page,
        "place": slot.place or slot.page.place,
        "is_owner": is_owner,
        "name": registration.name if is_owner else mask_text(registration.name),
        "unit": registration.unit_or_contract if is_owner else mask_text(registration.unit_or_contract),
        "mobile": mask_mobile(registration.mobile),
        "can_cancel": registration.status == OpenDayRegistration.Status.REGISTERED
        and not services.has_started(slot),
        "hotline": slot.page.project.hotline,
    }
    return render(request, "home/openday/done.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def cancel_view(request):
    status = 200
    if request.method == "POST":
        if limited(request, "openday-cancel-ip", "ip", "OPENDAY_RATE_CANCEL_IP"):
            return too_many_requests(request)
        form = CancelForm(request.POST)
        if form.is_valid():
            mobile = form.cleaned_data["mobile"]
            if limited(request, "openday-cancel-mobile", lambda group, request: mobile,
                       "OPENDAY_RATE_CANCEL_MOBILE"):
                return too_many_requests(request)
            try:
                registration, changed = services.cancel(form.cleaned_data["code"], mobile)
            except ValidationError as error:
                attach_error(form, error)
            else:
                remember_code(request, registration.code)
                if changed:
                    messages.success(request, _("已取消报名，名额已释放。欢迎再次报名其他场次。"))
                else:
                    messages.info(request, _("该报名此前已取消，无需重复操作。"))
                return redirect("openday_done", code=registration.code)
        status = 400
    else:
        code = re.sub(r"[^A-Z0-9]", "", (request.GET.get("code") or "").upper())[:12]
        form = CancelForm(initial={"code": code})
    return render(request, "home/openday/cancel.html", {"form": form}, status=status)
