"""Browser tests: Debian's Chromium (/usr/bin/chromium) driven by Playwright's sync API against
pytest-django's ``live_server``.

* No browser download: Playwright is pointed at the system Chromium (``playwright install`` is
  never run). Missing Chromium skips the tests locally with the apt command to run, and fails
  them when ``CI`` is set (``.ci/run`` exports ``CI=true``), so CI cannot pass without them.
* One Chromium per test module (``chromium`` fixture), one fresh context per phone
  (``phone_factory``): a 390 × 844 touch screen with a WeChat user agent, zh-CN, Asia/Shanghai.
* Playwright's sync API keeps an asyncio loop "running" on the main thread for as long as it
  is started, and Django then refuses ORM calls there (``SynchronousOnlyOperation``). The
  ``chromium`` fixture therefore sets ``DJANGO_ALLOW_ASYNC_UNSAFE`` for exactly the lifetime of
  the Playwright instance (this module's tests, including their database flush) and stops
  Playwright before the variable is restored; other tests never see either.
  pytest-playwright's own ``browser``/``page`` fixtures are deliberately not used: their
  Playwright instance is session-wide and would leave the loop running under every later test.
* Every request a page makes is recorded: nothing may leave the live server (no CDN fonts,
  analytics or maps). Screenshots go to ``test-artifacts/e2e/`` (ignored by git).
"""

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
APT_INSTALL = "apt-get install -y --no-install-recommends chromium fonts-wqy-microhei fontconfig"

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"

#: WeChat's in-app browser on Android (XWEB), as owners open the portal from a shared link.
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 14; V2307A Build/UP1A.231005.007; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.103 Mobile Safari/537.36 XWEB/1300333 "
    "MMWEBSDK/20240801 MMWEBID/2307 MicroMessenger/8.0.50.2701(0x2800323C) WeChat/arm64 Weixin "
    "NetType/WIFI Language/zh_CN ABI/arm64"
)
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "screen": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": WECHAT_UA,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
TIMEOUT_MS = 10_000


def in_ci():
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def chromium():
    """A headless Debian Chromium for this module's tests."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        message = f"{CHROMIUM} is missing: install it with `{APT_INSTALL}` (browser tests need it)"
        if in_ci():
            pytest.fail(message + "; CI must run the browser tests", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=30_000
            )
            try:
                yield browser
            finally:
                browser.close()


@pytest.fixture(scope="session")
def artifacts_dir():
    """``test-artifacts/e2e/``, emptied of the previous run's screenshots."""
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


class Phone:
    """One browser context (a phone) with its page, the URLs it requested and what went wrong."""

    def __init__(self, context, server_url, artifacts, prefix):
        self.context = context
        self.server = urlsplit(server_url)
        self.base_url = server_url.rstrip("/")
        self.artifacts = artifacts
        self.prefix = prefix
        self.shots = 0
        self.requests = []  # every URL any page of this phone asked for
        self.failures = []  # responses with status >= 400, and failed requests
        self.page_errors = []  # uncaught JavaScript errors
        context.on("request", lambda request: self.requests.append(request.url))
        context.on("requestfailed", lambda request: self.failures.append(f"failed {request.url}"))
        context.on("response", self._check_response)
        context.set_default_timeout(TIMEOUT_MS)
        self.page = context.new_page()
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _check_response(self, response):
        if response.status >= 400:
            self.failures.append(f"{response.status} {response.url}")

    def goto(self, path):
        return self.page.goto(self.base_url + path)

    def sign_in_to_admin(self, username, password, *, by_keyboard=False):
        """Staff sign in on the admin's login page and land on the admin home; ``by_keyboard``
        submits with Enter instead of clicking the button."""
        self.goto("/admin/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        if by_keyboard:
            self.page.keyboard.press("Enter")
        else:
            self.page.locator("button[type=submit]").first.click()
        self.page.wait_for_url(re.compile(r"/admin/$"))

    def shot(self, name):
        """A full-page screenshot, numbered in the order taken: ``01-home.png``…"""
        self.shots += 1
        slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
        path = self.artifacts / f"{self.prefix}{self.shots:02d}-{slug}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def foreign_requests(self):
        """Requested URLs not on the live server (data: and blob: URLs stay in the page)."""
        foreign = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if (parts.scheme, parts.netloc) != (self.server.scheme, self.server.netloc):
                foreign.append(url)
        return foreign

    def assert_stayed_local(self):
        assert self.requests, "no request was recorded"
        assert self.foreign_requests() == [], "the page loaded something from outside the site"


@pytest.fixture
def phone_factory(chromium, live_server, artifacts_dir):
    """``phone_factory(prefix="", **context_options)`` opens a new phone (a browser context)
    on the live server; all are closed after the test."""
    contexts = []

    def open_phone(prefix="", **options):
        context = chromium.new_context(**{**PHONE, **options})
        contexts.append(context)
        return Phone(context, live_server.url, artifacts_dir, prefix)

    yield open_phone
    for context in contexts:
        context.close()

