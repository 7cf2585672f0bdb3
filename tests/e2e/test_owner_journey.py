"""The owner portal in a real browser on a phone (issue 4, item 8).

An owner opens the portal from WeChat, reads a project's progress bulletin, registers for an open
day, and searches for 漏水 to find the FAQ answer; the registration form also works without
JavaScript, and the main pages fit a 390 px screen without scrolling sideways. Content comes from
the project's own demo seeder (home/demo.py), or the tests.portal builders where a small tree is
enough. Screenshots of every step are written to test-artifacts/e2e/.
"""

import datetime
import re

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from home.demo import seed_portal
from home.models import FAQ, OpenDayRegistration, ProjectPage
from tests.factories import ProjectFactory
from tests.portal import add_open_day, add_project_page, build_portal, ensure_home

pytestmark = [pytest.mark.browser]

OPEN_DAY = "锦江悦府 6 号楼工地开放日"  # the demo's site open day (安居·锦江悦府)
PROJECT = "安居·锦江悦府"
CODE_RE = re.compile(r"^[A-Z0-9]{8}$")


@pytest.fixture
def no_rate_limits():
    """Open-day rate limits count in the default (local-memory) cache, which the live server
    thread shares: start and end without earlier tests' counts."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo_portal(transactional_db, no_rate_limits):
    """The demo page tree (home/demo.py) on the tree the migrations make; a transactional
    test's flush removes that tree, so it is rebuilt first (tests.portal.ensure_home)."""
    ensure_home()
    created = seed_portal()
    assert created["pages"] and created["faqs"]
    return created


def scroll_overflow(page):
    """How far the page scrolls sideways, with the elements sticking out on the right."""
    return page.evaluate(
        """() => {
            const width = window.innerWidth;
            const wide = [];
            for (const el of document.querySelectorAll('body *')) {
                const right = el.getBoundingClientRect().right;
                if (right > width + 0.5) {
                    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                        + (el.className && typeof el.className === 'string'
                           ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
                    wide.push(name + ' → ' + Math.round(right) + 'px');
                }
            }
            return {innerWidth: width, scrollWidth: document.documentElement.scrollWidth,
                    wide: wide.slice(0, 10)};
        }"""
    )


def test_owner_reads_a_bulletin_registers_for_an_open_day_and_finds_a_faq(demo_portal, phone_factory):
    phone = phone_factory()
    page = phone.page

    # 1. The home page, as opened from a link shared in WeChat.
    phone.goto("/")
    expect(page).to_have_title(re.compile("安居业主服务"))
    expect(page.get_by_role("heading", level=1)).to_have_text("安居业主服务")
    expect(page.get_by_role("heading", name="我们的项目")).to_be_visible()
    expect(page.get_by_role("heading", name="近期开放日")).to_be_visible()
    phone.shot("home")

    # 2. A project page, from the home page's project cards.
    page.get_by_role("region", name="我们的项目").get_by_role("link", name=PROJECT, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PROJECT)
    expect(page.get_by_text("客服热线")).to_contain_text("400-000-5102")
    expect(page.get_by_role("navigation", name="项目栏目").get_by_role("link", name="工程进展")).to_be_visible()
    expect(page.get_by_role("heading", name="不利因素公示")).to_be_visible()
    expect(page.get_by_role("heading", name="220kV 高压输电线路")).to_be_visible()
    project_url = page.url
    phone.shot("project")

    # 3. The project's latest progress bulletin.
    latest = page.get_by_role("region", name="最新工程进展").get_by_role("link").first
    bulletin_title = latest.inner_text().strip()
    assert re.fullmatch(r"锦江悦府客户通讯第 \d+ 期（\d{4}年\d{1,2}月）", bulletin_title), bulletin_title
    latest.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(bulletin_title)
    expect(page.get_by_text(PROJECT).first).to_be_visible()
    expect(page.get_by_role("heading", name="各楼栋进度")).to_be_visible()
    expect(page.get_by_role("rowheader", name="6号楼")).to_be_visible()
    phone.shot("bulletin")

    # 4. Back on the project page, the upcoming open day.
    page.go_back()
    expect(page).to_have_url(project_url)
    page.get_by_role("region", name="近期开放日").get_by_role("link", name=OPEN_DAY).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(OPEN_DAY)
    expect(page.get_by_text("集合地点")).to_be_visible()
    slots = page.get_by_role("region", name="场次").get_by_role("listitem")
    expect(slots).to_have_count(3)
    expect(slots.first).to_contain_text(re.compile(r"剩余名额 (\d+) / \1"))  # nobody registered yet
    capacity = int(re.search(r"剩余名额 (\d+)", slots.first.inner_text()).group(1))
    phone.shot("open-day")

    # 5. The registration form of the first slot, filled in by its labels.
    slots.first.get_by_role("link", name="报名", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("活动报名")
    expect(page.get_by_text(OPEN_DAY).first).to_be_visible()
    page.get_by_label("姓名", exact=True).fill("王小明")
    page.get_by_label("手机号", exact=True).fill("138 0013 8000")
    page.get_by_label("房号或合同号", exact=True).fill("6幢1单元2302")
    party = page.get_by_role("spinbutton", name="到场人数")
    expect(party).to_have_value("1")
    party.fill("2")
    page.get_by_label("备注", exact=True).fill("带一位家人")
    phone.shot("register-form")
    page.get_by_role("button", name="提交报名").click()

    # 6. The confirmation, with the registration code; the row is in the database.
    expect(page.get_by_role("heading", level=1)).to_have_text("报名成功")
    expect(page.get_by_role("status")).to_contain_text("报名成功，请保存好您的报名码。")
    code = page.locator(".registration-code").inner_text().strip()
    assert CODE_RE.fullmatch(code), code
    expect(page.get_by_role("heading", name="报名码")).to_be_visible()
    for text in ("王小明", "138****8000", "6幢1单元2302"):
        expect(page.get_by_role("definition").filter(has_text=text)).to_be_visible()
    phone.shot("registered")

    registration = OpenDayRegistration.objects.select_related("slot__page").get(code=code)
    assert registration.slot.page.title == OPEN_DAY
    assert (registration.name, registration.mobile, registration.unit_or_contract) == (
        "王小明", "13800138000", "6幢1单元2302",
    )
    assert registration.party_size == 2
    assert registration.status == OpenDayRegistration.Status.REGISTERED

    # Back on the open day, the two seats are taken.
    page.get_by_role("link", name="返回活动页面").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(OPEN_DAY)
    expect(slots.first).to_contain_text(f"剩余名额 {capacity - 2} / {capacity}")

    # 7. The search box in the header: 漏水.
    box = page.get_by_role("search").get_by_role("searchbox", name="搜索本站内容")
    box.fill("漏水")
    box.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("站内搜索")
    expect(page.get_by_role("status")).to_contain_text("与“漏水”相关的结果")
    faq_results = page.get_by_role("region", name="常见问题")
    result = faq_results.get_by_role("link", name="卫生间漏水怎么办？")
    expect(result).to_be_visible()
    phone.shot("search")

    # 8. The FAQ result: the question, scrolled to, with its answer.
    result.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("常见问题")
    faq = FAQ.objects.get(question="卫生间漏水怎么办？")
    assert page.url.endswith(f"#faq-{faq.pk}")
    question = page.locator(f"#faq-{faq.pk}")
    expect(question).to_contain_text("卫生间漏水怎么办？")
    expect(question).to_be_in_viewport()
    answer = page.locator(f"#faq-{faq.pk} + dd")
    expect(answer).to_contain_text("请先关闭卫生间角阀或户内进水总阀")
    expect(answer).to_be_visible()
    phone.shot("faq-answer")

    phone.assert_stayed_local()
    assert phone.failures == [], "a page, style sheet or picture failed to load"
    assert phone.page_errors == []


@pytest.fixture
def small_open_day(transactional_db, no_rate_limits):
    """A project page and one open day a week ahead (tests.portal builders)."""
    ensure_home()
    portal = build_portal()
    project = ProjectFactory(code="HZ01", name="钱塘雅苑")
    add_project_page(portal, project)
    day = timezone.localdate() + datetime.timedelta(days=7)
    return add_open_day(portal, project, slots=((day, 10, 3),), title="钱塘雅苑工地开放日")


def test_registration_works_without_javascript(small_open_day, phone_factory):
    phone = phone_factory(prefix="nojs-", java_script_enabled=False)
    page = phone.page

    phone.goto(small_open_day.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("钱塘雅苑工地开放日")
    page.get_by_role("link", name="报名", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("活动报名")

    # A mistake first: the server answers with the form again and the message on the field.
    page.get_by_label("姓名", exact=True).fill("李四")
    page.get_by_label("手机号", exact=True).fill("12345")
    page.get_by_label("房号或合同号", exact=True).fill("3幢2单元1502")
    page.get_by_label("到场人数", exact=True).fill("2")
    page.get_by_role("button", name="提交报名").click()
    expect(page.get_by_role("alert")).to_contain_text("报名未成功")
    expect(page.get_by_text("应为 11 位中国大陆手机号")).to_be_visible()
    expect(page.get_by_label("手机号", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("姓名", exact=True)).to_have_value("李四")
    phone.shot("register-error")
    assert not OpenDayRegistration.objects.exists()

    page.get_by_label("手机号", exact=True).fill("13800138000")
    page.get_by_role("button", name="提交报名").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("报名成功")
    code = page.locator(".registration-code").inner_text().strip()
    assert CODE_RE.fullmatch(code), code
    phone.shot("registered")

    registration = OpenDayRegistration.objects.get(code=code)
    assert (registration.mobile, registration.party_size, registration.slot.page_id) == (
        "13800138000", 2, small_open_day.pk,
    )
    phone.assert_stayed_local()


def test_home_and_project_pages_fit_a_390px_phone(demo_portal, phone_factory):
    phone = phone_factory(prefix="width-")
    paths = ["/"] + [page.url for page in ProjectPage.objects.live().order_by("path")]
    assert len(paths) == 3
    for path in paths:
        phone.goto(path)
        expect(phone.page.get_by_role("heading", level=1)).to_be_visible()
        phone.page.evaluate("document.fonts.ready")
        measured = scroll_overflow(phone.page)
        phone.shot("home" if path == "/" else path.strip("/"))
        assert measured["innerWidth"] == 390, measured
        assert measured["scrollWidth"] <= measured["innerWidth"], (path, measured)
    phone.assert_stayed_local()
