"""An SMS backend for a JSON-over-HTTPS gateway: a company's own SMS gateway, or a relay in
front of a provider, configured in settings.NOTIFICATIONS["SMS_HTTP"] without code (standard
library only).

One POST per message, body (UTF-8 JSON)::

    {"mobile": "13900139000", "template": "SMS_123456", "sign_name": "安居",
     "params": {"code": "123456", "minutes": "5"}, "request_id": "<uuid4>"}

``template`` is the provider's template id: NOTIFICATIONS["SMS_TEMPLATES"] maps our template
names to it before any backend is called (notifications.channels.SmsChannel.template_code), and
a name left unmapped is refused here rather than sent. With API_KEY the request carries
``Authorization: Bearer <key>``; with SECRET it carries X-Timestamp, X-Nonce and X-Signature,
the hex HMAC-SHA256 of ``timestamp + "\\n" + nonce + "\\n" + body`` (see ``signature``); the
gateway rejects stale timestamps and nonces it has seen, so a captured request cannot be sent
again. The gateway answers 2xx with JSON whose OK_FIELD equals OK_VALUE and whose ID_FIELD is
the message id; anything else raises SmsError. Fields may be dotted paths ("data.id").
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
import uuid
from http.client import HTTPException
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from estates.normalize import mask_mobile

from . import conf
from .sms import BaseBackend, SmsError

logger = logging.getLogger("anju.sms")

DEFAULTS = {
    "URL": "",
    "TIMEOUT": 5,
    "SIGN_NAME": "",
    "API_KEY": "",
    "AUTH_HEADER": "Authorization",
    "AUTH_SCHEME": "Bearer",  # "" sends the bare key (e.g. AUTH_HEADER "X-Api-Key")
    "SECRET": "",
    "SIGNATURE_HEADER": "X-Signature",
    "TIMESTAMP_HEADER": "X-Timestamp",
    "NONCE_HEADER": "X-Nonce",
    "OK_FIELD": "code",
    "OK_VALUE": "OK",
    "ID_FIELD": "message_id",
    "MESSAGE_FIELD": "message",
}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_ANSWER = 64 * 1024
MAX_ERROR = 300
#: Templates the project sends by SMS, with the app that sends them.
USED_TEMPLATES = {
    "owner_sign_in_code": "owners",  # owners/codes.py: sign-in codes
    "contractor_work_link": "cases",  # plugins/cases/worklinks.py: a contractor's work link
}


def http_settings():
    """NOTIFICATIONS["SMS_HTTP"] over DEFAULTS."""
    configured = getattr(settings, "NOTIFICATIONS", {}).get("SMS_HTTP", {})
    return {**DEFAULTS, **configured} if isinstance(configured, dict) else configured


def problems(config):
    """What makes ``config`` (from ``http_settings``) unusable, in English; [] when fine."""
    if not isinstance(config, dict):
        return ['NOTIFICATIONS["SMS_HTTP"] must be a dict.']
    found = []
    try:
        url = urlsplit(str(config["URL"]))
        scheme, host = url.scheme, url.hostname
    except ValueError:
        scheme = host = None
    if not config["URL"]:
        found.append('NOTIFICATIONS["SMS_HTTP"]["URL"] is not set.')
    elif not host or not (scheme == "https" or (scheme == "http" and host in LOOPBACK)):
        found.append(f'NOTIFICATIONS["SMS_HTTP"]["URL"] must be https:// (http:// only for 127.0.0.1 or '
                     f"localhost), not {scheme or '?'}://{host or '?'}.")
    try:
        timeout_ok = float(config["TIMEOUT"]) > 0
    except (TypeError, ValueError):
        timeout_ok = False
    if not timeout_ok:
        found.append('NOTIFICATIONS["SMS_HTTP"]["TIMEOUT"] must be a number of seconds above 0.')
    if not (config["API_KEY"] or config["SECRET"]):
        found.append('NOTIFICATIONS["SMS_HTTP"] needs API_KEY, SECRET or both: the gateway must be able to '
                     "refuse requests that are not ours.")
    return found


def signature(secret, timestamp, nonce, body):
    """The hex HMAC-SHA256 the gateway recomputes: over ``timestamp\\nnonce\\n`` and the body bytes."""
    return hmac.new(secret.encode(), f"{timestamp}\n{nonce}\n".encode() + body, hashlib.sha256).hexdigest()


def _field(data, path):
    """``data``'s value at the dotted ``path`` ("data.0.id"), or None."""
    for part in str(path).split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx is an error: the key and the message are never re-sent to another address."""

    def redirect_request(self, *args, **kwargs):
        return None


class HttpBackend(BaseBackend):
    def __init__(self):
        config = http_settings()
        found = problems(config)
        if found:
            raise ImproperlyConfigured(" ".join(found))
        self.config = config
        self.timeout = float(config["TIMEOUT"])
        #: The provider's template ids this deployment has mapped.
        self.templates = set(conf.get("SMS_TEMPLATES").values())
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._hidden = [str(config[name]) for name in ("API_KEY", "SECRET") if config[name]]

    def send(self, mobile, template_code, params):
        config, request_id = self.config, str(uuid.uuid4())
        started = time.monotonic()
        try:
            if template_code not in self.templates:
                raise SmsError(f"SMS template {template_code!r} has no provider template: map it in "
                               'NOTIFICATIONS["SMS_TEMPLATES"].')
            body = json.dumps({
                "mobile": mobile, "template": template_code, "sign_name": config["SIGN_NAME"],
                "params": params, "request_id": request_id,
            }, ensure_ascii=False).encode()
            message_id = self._post(body, self._headers(body))
        except SmsError as error:
            error = SmsError(str(error).replace(mobile, mask_mobile(mobile)))  # a gateway may echo it
            logger.warning("SMS to %s (template %s, request %s) failed: %s",
                           mask_mobile(mobile), template_code, request_id, error)
            raise error from None
        logger.info("SMS sent to %s (template %s, request %s): id %s, %d ms", mask_mobile(mobile),
                    template_code, request_id, message_id or "-", (time.monotonic() - started) * 1000)
        return message_id

    def _headers(self, body):
        config = self.config
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
                   "User-Agent": "anju-sms/1"}
        if config["API_KEY"]:
            scheme = config["AUTH_SCHEME"]
            headers[config["AUTH_HEADER"]] = f"{scheme} {config['API_KEY']}" if scheme else str(config["API_KEY"])
        if config["SECRET"]:
            timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
            headers[config["TIMESTAMP_HEADER"]] = timestamp
            headers[config["NONCE_HEADER"]] = nonce
            headers[config["SIGNATURE_HEADER"]] = signature(str(config["SECRET"]), timestamp, nonce, body)
        return headers

    def _post(self, body, headers):
        """The message id from the gateway's answer, or SmsError."""
        request = urllib.request.Request(self.config["URL"], data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read(MAX_ANSWER)
        except urllib.error.HTTPError as error:  # non-2xx (3xx included: redirects are refused)
            with error:
                raw = error.read(MAX_ANSWER)
            raise self._error(f"answered HTTP {error.code}", self._detail(raw)) from None
        except (OSError, HTTPException) as error:  # refused, timed out, reset, TLS, bad status line
            raise self._error("was not reached", getattr(error, "reason", None) or error) from None
        try:
            data = json.loads(raw)
        except ValueError:
            raise self._error(f"answered HTTP {status} without JSON", raw) from None
        ok_field, ok = self.config["OK_FIELD"], _field(data, self.config["OK_FIELD"])
        if ok != self.config["OK_VALUE"]:
            raise self._error(f"refused the message ({ok_field}={ok!r})", self._detail(raw))
        message_id = _field(data, self.config["ID_FIELD"])
        return "" if message_id is None else str(message_id)

    def _detail(self, raw):
        """The gateway's MESSAGE_FIELD when it answered JSON with one, else its raw answer."""
        try:
            detail = _field(json.loads(raw), self.config["MESSAGE_FIELD"])
        except ValueError:
            detail = None
        return raw if detail is None else detail

    def _error(self, summary, detail):
        """SmsError "SMS gateway <summary>: <detail>", whitespace collapsed, the key and secret
        blanked out (a gateway may echo them), truncated."""
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        text = " ".join(f"SMS gateway {summary}: {detail}".split()).removesuffix(":")
        for hidden in self._hidden:
            text = text.replace(hidden, "***")
        return SmsError(text[:MAX_ERROR])


@checks.register("notifications")
def check_sms_http(app_configs=None, **kwargs):
    """notifications.E001 when HttpBackend is chosen and NOTIFICATIONS["SMS_HTTP"] cannot work;
    notifications.W001 for each template the project sends by SMS that has no provider template."""
    try:
        backend = import_string(conf.get("SMS_BACKEND"))
    except ImportError:
        return []
    if not (isinstance(backend, type) and issubclass(backend, HttpBackend)):
        return []
    found = [checks.Error(problem, hint="See README.md, SMS provider (HTTP adapter).", id="notifications.E001")
             for problem in problems(http_settings())]
    labels = {config.label for config in apps.get_app_configs()}
    used = [name for name, label in USED_TEMPLATES.items() if label in labels]
    if "sms" in conf.get("DEFAULT_CHANNELS"):
        used.append("generic")  # staff notices (the case desk's clocks) go out on the default channels
    mapped = conf.get("SMS_TEMPLATES")
    found += [
        checks.Warning(f'SMS template {name!r} has no provider template in NOTIFICATIONS["SMS_TEMPLATES"]; '
                       "HttpBackend refuses to send it.", id="notifications.W001")
        for name in used if name not in mapped
    ]
    return found
