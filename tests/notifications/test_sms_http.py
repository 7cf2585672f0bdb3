"""The HTTP SMS adapter (notifications/sms_http.py) against a real HTTP server on 127.0.0.1 that
records each request and answers as the test tells it: nothing of the HTTP layer is mocked."""

import hashlib
import hmac
import json
import logging
import re
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from notifications import conf, sms_http
from notifications.models import SmsRecord
from notifications.sms import SmsError
from notifications.sms_http import HttpBackend
from owners.codes import SMS_TEMPLATE
from owners.models import SignInCode
from tests.factories import OwnerFactory, OwnershipFactory

API_KEY = "key-7f3a9c1e5b"
SECRET = "secret-2d8e4b6a0f"
MOBILE = "13900139000"
TEMPLATES = {"owner_sign_in_code": "SMS_100001", "contractor_work_link": "SMS_100002"}


class Gateway:
    """What the fake gateway saw (``requests``: (path, headers, body bytes)) and will answer."""

    def __init__(self):
        self.requests = []
        self.reply()

    def reply(self, status=200, answer=None, delay=0.0, headers=None):
        self.status, self.delay, self.headers = status, delay, headers or {}
        self.answer = {"code": "OK", "message_id": "msg-0001"} if answer is None else answer

    def body(self, n=-1):
        return json.loads(self.requests[n][2])


@pytest.fixture
def gateway(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    fake = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            fake.requests.append((self.path, self.headers, body))
            time.sleep(fake.delay)
            answer = fake.answer if isinstance(fake.answer, bytes) else json.dumps(fake.answer).encode()
            self.send_response(fake.status)
            for name, value in {"Content-Type": "application/json", **fake.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.handle_error = lambda request, address: None  # a client that timed out went away
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_port}/sms/send"
    yield fake
    server.shutdown()
    server.server_close()
    thread.join()


def sms_settings(url, templates=TEMPLATES, **http):
    """The HTTP backend towards ``url``, with SMS_HTTP keys changed by ``http`` (None removes one)."""
    config = {"URL": url, "API_KEY": API_KEY, "SECRET": SECRET, "SIGN_NAME": "安居", "TIMEOUT": 2, **http}
    return override_settings(NOTIFICATIONS={
        **settings.NOTIFICATIONS,
        "SMS_BACKEND": "notifications.sms_http.HttpBackend",
        "SMS_TEMPLATES": templates,
        "SMS_HTTP": {name: value for name, value in config.items() if value is not None},
    })


def send(gateway_url, template="SMS_100001", **http):
    with sms_settings(gateway_url, **http):
        return HttpBackend().send(MOBILE, template, {"code": "123456", "minutes": "5"})


# --- What goes out --------------------------------------------------------------------------


def test_a_message_goes_out_as_signed_json_and_returns_the_message_id(gateway, caplog):
    caplog.set_level(logging.INFO, logger="anju.sms")
    started = int(time.time())
    assert send(gateway.url) == "msg-0001"
    [(path, headers, body)] = gateway.requests
    assert path == "/sms/send"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    sent = json.loads(body)
    assert {name: sent[name] for name in ("mobile", "template", "sign_name", "params")} == {
        "mobile": MOBILE, "template": "SMS_100001", "sign_name": "安居", "params": {"code": "123456", "minutes": "5"},
    }
    assert uuid.UUID(sent["request_id"]).version == 4
    assert "安居".encode() in body  # UTF-8, not \u escapes

    # The gateway recomputes the signature over timestamp, nonce and the exact body bytes.
    timestamp, nonce = headers["X-Timestamp"], headers["X-Nonce"]
    assert started <= int(timestamp) <= time.time() + 1 and len(nonce) >= 16
    expected = hmac.new(SECRET.encode(), f"{timestamp}\n{nonce}\n".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Signature"], expected)
    tampered = body.replace(b"123456", b"654321")
    assert headers["X-Signature"] != hmac.new(
        SECRET.encode(), f"{timestamp}\n{nonce}\n".encode() + tampered, hashlib.sha256).hexdigest()

    [line] = [r for r in caplog.records if r.name == "anju.sms"]
    assert line.levelno == logging.INFO and "139****9000" in line.getMessage() and "msg-0001" in line.getMessage()
    assert MOBILE not in caplog.text and "123456" not in caplog.text  # neither the number nor the code


def test_each_message_has_its_own_request_id_and_nonce(gateway):
    send(gateway.url)
    send(gateway.url)
    first, second = gateway.requests
    assert json.loads(first[2])["request_id"] != json.loads(second[2])["request_id"]
    assert first[1]["X-Nonce"] != second[1]["X-Nonce"]


def test_fields_and_headers_are_configurable(gateway):
    gateway.reply(answer={"status": 0, "data": {"biz_id": 98765}})
    message_id = send(gateway.url, AUTH_HEADER="X-Api-Key", AUTH_SCHEME="", SECRET=None,
                      OK_FIELD="status", OK_VALUE=0, ID_FIELD="data.biz_id")
    assert message_id == "98765"
    [(_path, headers, _body)] = gateway.requests
    assert headers["X-Api-Key"] == API_KEY
    assert "Authorization" not in headers and "X-Signature" not in headers


def test_an_answer_without_a_message_id_is_still_sent(gateway):
    gateway.reply(answer={"code": "OK"})
    assert send(gateway.url) == ""


# --- Failures -------------------------------------------------------------------------------


@pytest.mark.parametrize("status, answer, delay, expected", [
    (200, {"code": "isv.BUSINESS_LIMIT_CONTROL", "message": f"触发分钟级流控 (key {API_KEY}, {MOBILE})"}, 0,
     "SMS gateway refused the message (code='isv.BUSINESS_LIMIT_CONTROL'): 触发分钟级流控 (key ***, 139****9000)"),
    (500, f"<html>Internal Server Error, secret={SECRET}</html>".encode(), 0,
     "SMS gateway answered HTTP 500: <html>Internal Server Error, secret=***</html>"),
    (401, {"code": "Unauthorized", "message": "bad signature"}, 0, "SMS gateway answered HTTP 401: bad signature"),
    (200, b"OK", 0, "SMS gateway answered HTTP 200 without JSON: OK"),
    (200, b"x" * 5000, 0, "SMS gateway answered HTTP 200 without JSON: xxx"),
    (200, {"code": "OK"}, 1.0, "SMS gateway was not reached: timed out"),
], ids=["refused", "500", "401", "not-json", "long", "timeout"])
def test_a_failure_raises_sms_error_without_the_key_or_secret(gateway, caplog, status, answer, delay, expected):
    gateway.reply(status, answer, delay)
    with pytest.raises(SmsError) as raised:
        send(gateway.url, TIMEOUT=0.3)
    text = str(raised.value)
    assert text.startswith(expected) and len(text) <= 300
    assert API_KEY not in text and SECRET not in text and MOBILE not in text
    [line] = [r for r in caplog.records if r.name == "anju.sms"]
    assert line.levelno == logging.WARNING and "139****9000" in line.getMessage()
    assert MOBILE not in caplog.text and API_KEY not in caplog.text and SECRET not in caplog.text


def test_a_redirect_is_not_followed(gateway):
    gateway.reply(302, b"", headers={"Location": gateway.url + "/elsewhere"})
    with pytest.raises(SmsError) as raised:
        send(gateway.url)
    assert str(raised.value) == "SMS gateway answered HTTP 302"
    assert len(gateway.requests) == 1  # the key and the message went nowhere else


def test_a_gateway_that_is_down_raises_sms_error():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SmsError, match="SMS gateway was not reached: .*refused"):
        send(f"http://127.0.0.1:{port}/sms/send")


def test_an_unmapped_template_is_refused_before_anything_is_sent(gateway, caplog):
    with pytest.raises(SmsError) as raised:
        send(gateway.url, template="generic")
    assert str(raised.value) == (
        "SMS template 'generic' has no provider template: map it in NOTIFICATIONS[\"SMS_TEMPLATES\"].")
    assert gateway.requests == []
    assert "generic" in caplog.text


# --- Configuration --------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    None, "", "http://sms.example.com/send?key=abc123", "ftp://sms.example.com/send", "https:///send",
    "sms.example.com",
])
def test_a_missing_or_plain_http_url_is_refused_at_construction(url):
    with sms_settings(url), pytest.raises(ImproperlyConfigured, match="URL") as raised:
        HttpBackend()
    assert "abc123" not in str(raised.value)  # a URL may carry credentials: only scheme and host are shown


@pytest.mark.parametrize("url", ["https://sms.example.com/send", "http://127.0.0.1:9000/send", "http://localhost/send"])
def test_https_and_loopback_urls_are_accepted(url):
    with sms_settings(url):
        assert HttpBackend().config["URL"] == url


def test_a_gateway_without_credentials_is_refused():
    with sms_settings("https://sms.example.com/send", API_KEY=None, SECRET=None), \
            pytest.raises(ImproperlyConfigured, match="API_KEY, SECRET or both"):
        HttpBackend()


def run_checks():
    return [(message.id, message.msg) for message in checks.run_checks(tags=["notifications"])]


def test_the_check_is_quiet_for_other_backends():
    with override_settings(NOTIFICATIONS={**settings.NOTIFICATIONS, "SMS_HTTP": {}}):
        assert run_checks() == []


def test_the_check_fails_on_incomplete_settings():
    with sms_settings("http://sms.example.com/send", API_KEY=None, SECRET=None, TIMEOUT="soon"):
        found = run_checks()
    assert [id_ for id_, _msg in found] == ["notifications.E001"] * 3
    assert "URL" in found[0][1] and "TIMEOUT" in found[1][1] and "API_KEY" in found[2][1]
    with override_settings(NOTIFICATIONS={**settings.NOTIFICATIONS, "SMS_BACKEND": "notifications.sms_http.HttpBackend",
                                          "SMS_TEMPLATES": TEMPLATES}):
        assert [id_ for id_, msg in run_checks() if "URL" in msg and "not set" in msg] == ["notifications.E001"]


def test_the_check_warns_of_templates_without_a_provider_template():
    with sms_settings("https://sms.example.com/send", templates={"contractor_work_link": "SMS_100002"}):
        assert run_checks() == [("notifications.W001", "SMS template 'owner_sign_in_code' has no provider template "
                                 "in NOTIFICATIONS[\"SMS_TEMPLATES\"]; HttpBackend refuses to send it.")]
    with sms_settings("https://sms.example.com/send"):
        assert run_checks() == []
        with override_settings(NOTIFICATIONS={**settings.NOTIFICATIONS, "DEFAULT_CHANNELS": ["admin", "sms"]}):
            assert [msg.split("'")[1] for _id, msg in run_checks()] == ["generic"]


def test_the_check_knows_the_sign_in_template():
    assert SMS_TEMPLATE in sms_http.USED_TEMPLATES


# --- End to end: an owner asks for a sign-in code -------------------------------------------

SIGN_IN, CODE = "/owner/sign-in/", "/owner/sign-in/code/"


@pytest.fixture
def owner(db):
    owner = OwnerFactory(name="林晓", mobile=MOBILE)
    OwnershipFactory(owner=owner)
    return owner


def test_a_sign_in_code_reaches_the_gateway_and_signs_the_owner_in(client, owner, gateway):
    with sms_settings(gateway.url):
        response = client.post(SIGN_IN, {"mobile": "139 0013 9000"})
        assert response.status_code == 302 and response["Location"].startswith(CODE)
        sent = gateway.body()
        assert sent["mobile"] == MOBILE and sent["template"] == "SMS_100001"
        assert re.fullmatch(r"\d{6}", sent["params"]["code"]) and sent["params"]["minutes"] == "5"
        response = client.post(CODE, {"code": sent["params"]["code"]})
    assert response.status_code == 302 and response["Location"] == "/owner/"
    assert len(gateway.requests) == 1 and not SmsRecord.objects.exists()


def test_a_gateway_failure_gives_the_owner_a_503_in_chinese(client, owner, gateway):
    gateway.reply(500, {"code": "ServiceUnavailable", "message": "upstream busy"})
    with sms_settings(gateway.url):
        response = client.post(SIGN_IN, {"mobile": MOBILE})
        assert conf.sms_backend().__class__ is HttpBackend
    page = response.content.decode()
    assert response.status_code == 503 and "短信发送失败，请稍后再试。" in page
    assert API_KEY not in page and "upstream busy" not in page
    assert len(gateway.requests) == 1
    assert SignInCode.objects.get().expires_at <= SignInCode.objects.get().created_at  # the code is dead
