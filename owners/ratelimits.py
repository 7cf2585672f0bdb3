"""Rate limits of the pages owners and the public use without a staff login, counted in the
default cache (Redis in production, shared by every worker). Settings OWNER_RATE_* override the
defaults. Behind a proxy, set RATELIMIT_IP_META_KEY so that "ip" is the client."""

from django.conf import settings
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited

RATE_DEFAULTS = {
    # Sign-in codes sent, per client IP and per number; codes checked per IP.
    "OWNER_RATE_SEND_IP": "20/h",
    "OWNER_RATE_SEND_MOBILE_MINUTE": "1/m",
    "OWNER_RATE_SEND_MOBILE_HOUR": "5/h",
    "OWNER_RATE_CHECK_IP": "30/h",
    # Following a case by its number and the last 4 digits of the reporter's mobile: per IP,
    # and per case number (10,000 possible endings: at 10 an hour, guessing takes months).
    "OWNER_RATE_FOLLOW_IP": "30/h",
    "OWNER_RATE_FOLLOW_NUMBER": "10/h",
}


def rate(name):
    return getattr(settings, name, RATE_DEFAULTS[name])


def client_ip(request):
    """The client's address as the limits see it: RATELIMIT_IP_META_KEY (a META header the proxy
    sets) when configured, else REMOTE_ADDR."""
    key = getattr(settings, "RATELIMIT_IP_META_KEY", None)
    if isinstance(key, str) and key in request.META:
        return request.META[key].split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def limited(request, group, rate_name, key="ip"):
    """Count this POST against ``rate_name``; True once it is over."""
    return is_ratelimited(request, group=group, key=key, rate=rate(rate_name), method="POST", increment=True)


def too_many(request, form, template, message, context=None):
    """The form again with ``message``, as 429 with Retry-After."""
    form.add_error(None, message)
    response = render(request, template, {"form": form, **(context or {})}, status=429)
    response["Retry-After"] = "60"
    return response
