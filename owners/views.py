"""Owner sign-in (手机号 + 短信验证码), sign-out and 我的家.

Rate limits (owners/ratelimits.py): sending a code per client IP and per number (one a minute,
five an hour), checking a code per client IP; the code's own five tries are counted in the
database (owners/codes.py).
"""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from wagtail import hooks

from estates.models import Ownership
from estates.normalize import mask_mobile

from . import codes, session
from .forms import CodeForm, MobileForm
from .ratelimits import client_ip, limited, too_many

PENDING_KEY = "anju_owner_pending"
#: Hook name: functions (request, owner) -> HTML of a panel on 我的家, e.g. the case desk's.
HOME_PANELS_HOOK = "owner_home_panels"


def _next_url(request):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("owners_home")


@never_cache
def sign_in(request):
    """Step 1: the number; a code is sent to it."""
    form = MobileForm(request.POST or None)
    context = {"next": _next_url(request)}
    if request.method != "POST":
        return render(request, "owners/sign_in.html", {"form": form, **context})
    if limited(request, "owners.send.ip", "OWNER_RATE_SEND_IP"):
        return too_many(request, form, "owners/sign_in.html", _("操作过于频繁，请稍后再试。"), context)
    if not form.is_valid():
        return render(request, "owners/sign_in.html", {"form": form, **context}, status=400)
    try:
        mobile = codes.normalize(form.cleaned_data["mobile"])
    except codes.SignInError as error:
        form.add_error("mobile", error.message)
        return render(request, "owners/sign_in.html", {"form": form, **context}, status=400)
    by_number = lambda group, request: mobile  # noqa: E731
    if (limited(request, "owners.send.mobile.minute", "OWNER_RATE_SEND_MOBILE_MINUTE", by_number)
            or limited(request, "owners.send.mobile.hour", "OWNER_RATE_SEND_MOBILE_HOUR", by_number)):
        return too_many(request, form, "owners/sign_in.html", _("验证码已发送，请稍候再获取。"), context)
    try:
        codes.send_code(mobile, ip=client_ip(request))
    except codes.SignInError as error:
        form.add_error("mobile", error.message)
        status = 503 if error.code == "sms_failed" else 400
        return render(request, "owners/sign_in.html", {"form": form, **context}, status=status)
    request.session[PENDING_KEY] = mobile
    return redirect(f"{reverse('owners_code')}?{urlencode({'next': context['next']})}")


@never_cache
def enter_code(request):
    """Step 2: the code from the SMS."""
    mobile = request.session.get(PENDING_KEY)
    if not mobile:
        return redirect("owners_sign_in")
    form = CodeForm(request.POST or None)
    context = {"masked_mobile": mask_mobile(mobile), "next": _next_url(request)}
    if request.method != "POST":
        return render(request, "owners/code.html", {"form": form, **context})
    if limited(request, "owners.check.ip", "OWNER_RATE_CHECK_IP"):
        return too_many(request, form, "owners/code.html", _("操作过于频繁，请稍后再试。"), context)
    if not form.is_valid():
        return render(request, "owners/code.html", {"form": form, **context}, status=400)
    try:
        codes.check_code(mobile, form.cleaned_data["code"])
    except codes.SignInError as error:
        form.add_error("code", error.message)
        return render(request, "owners/code.html", {"form": form, **context}, status=400)
    request.session.pop(PENDING_KEY, None)
    session.sign_in(request, mobile)
    return redirect(context["next"])


@require_POST
def sign_out(request):
    session.sign_out(request)
    return redirect("/")


@never_cache
def home(request):
    """我的家: the signed-in owner's units, then the plugins' panels."""
    owner = request.owner
    if not owner:
        return redirect(f"{reverse('owners_sign_in')}?{urlencode({'next': request.path})}")
    ownerships = (Ownership.objects.filter(owner_id__in=owner.owner_ids, end__isnull=True)
                  .select_related("unit__project", "unit__building").order_by("unit__project__name", "unit__label"))
    panels = [panel for function in hooks.get_hooks(HOME_PANELS_HOOK) if (panel := function(request, owner))]
    return render(request, "owners/home.html", {
        "ownerships": ownerships, "masked_mobile": mask_mobile(owner.mobile), "panels": panels,
    })
