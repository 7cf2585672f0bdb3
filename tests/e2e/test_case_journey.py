"""A repair from report to rating in a real browser (issue 6's browser test).

An owner scans the unit's QR code on a phone, reports a leak with a photo and gets the case
number; a dispatcher assigns a contractor in the admin (desktop); the contractor opens the link
from the SMS on a phone, marks "contacted" and "done"; the owner signs in with the code from the
development SMS backend, accepts the repair and rates it 5; the owner's timeline shows every step
in order. Screenshots go to test-artifacts/e2e/ (prefix "case-").
"""

import re
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from estates.links import link_for, short_path
from notifications.models import SmsRecord
from plugins.cases.models import Case, CaseEvent, Status
from tests import factories
from tests.conftest import staff_with_perms
from tests.forms.conftest import add_form_page, jpeg_bytes
from tests.plugins.cases.conftest import ALL_VERBS
from tests.portal import build_portal, ensure_home

pytestmark = [pytest.mark.browser]

OWNER_MOBILE, FIXER_MOBILE = "13900139000", "13600136000"
NUMBER_RE = re.compile(r"BX\d{8}-\d{4}")
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "screen": {"width": 1280, "height": 900},
           "is_mobile": False, "has_touch": False, "device_scale_factor": 1,
           "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                         "Chrome/156.0.0.0 Safari/537.36"}


@pytest.fixture
def estate(transactional_db):
    cache.clear()  # rate limits count in the local-memory cache the live server shares
    ensure_home()
    portal = build_portal()
    project = factories.ProjectFactory(code="HZ01", name="钱塘雅苑")
    building = factories.BuildingFactory(project=project, code="3", name="3号楼")
    unit = factories.UnitFactory(building=building, entrance="2", number="1502")
    add_form_page(portal.home)
    owner = factories.OwnerFactory(name="林晓", mobile=OWNER_MOBILE)
    factories.OwnershipFactory(owner=owner, unit=unit)
    factories.ContractorFactory(name="安修公司", contact_mobile=FIXER_MOBILE, projects=[project])
    dispatcher = staff_with_perms(*ALL_VERBS, "cases.view_case", projects=[project], username="paidan")
    dispatcher.set_password("派单-密码-2026")
    dispatcher.save()
    yield {"unit": unit, "dispatcher": dispatcher}
    cache.clear()


def sms_to(mobile):
    return SmsRecord.objects.filter(mobile=mobile).order_by("-pk").first()


def test_a_leak_from_report_to_rating(estate, phone_factory, tmp_path):
    photo = tmp_path / "leak.jpg"
    photo.write_bytes(jpeg_bytes())

    # 1. The owner scans the unit's QR code and reports the leak with a photo.
    owner = phone_factory(prefix="case-owner-")
    page = owner.page
    owner.goto(short_path(link_for(estate["unit"])))
    expect(page.locator("select[name=unit]")).to_have_value(str(estate["unit"].pk))
    page.fill("input[name=name]", "林晓")
    page.fill("input[name=mobile]", OWNER_MOBILE)
    page.fill("textarea[name=description]", "卫生间天花板漏水，滴到地板上。")
    page.set_input_files("input[name=photos]", str(photo))
    page.check("input[name=consent]")
    owner.shot("report")
    page.locator("form.service-form__form button[type=submit]:not([name])").last.click()
    reference = page.locator(".reference strong")
    expect(reference).to_have_text(NUMBER_RE)
    number = reference.inner_text()
    owner.shot("thank-you")
    case = Case.objects.get(number=number)
    assert case.channel == "qr" and case.attachments.count() == 1

    # 2. The dispatcher assigns the contractor in the admin.
    desk = phone_factory(prefix="case-dispatcher-", **DESKTOP)
    desk.sign_in_to_admin("paidan", "派单-密码-2026")
    desk.goto(f"/admin/snippets/cases/case/inspect/{case.pk}/")
    desk.page.locator("#verb-dispatch > summary").click()
    desk.page.locator("#verb-dispatch select[name='dispatch-contractor']").select_option(label="安修公司")
    desk.page.locator("#verb-dispatch button[type=submit]").click()
    expect(desk.page.get_by_text("已派单。")).to_be_visible()
    desk.shot("dispatched")
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED

    # 3. The contractor opens the link from the SMS, calls, marks contacted and done.
    link = sms_to(FIXER_MOBILE).params["link"]
    fixer = phone_factory(prefix="case-contractor-")
    fixer.goto(urlsplit(link).path)
    expect(fixer.page.get_by_text("139****9000")).to_be_visible()
    fixer.shot("job")
    fixer.page.get_by_role("button", name="呼叫业主").click()
    expect(fixer.page.locator(f"a[href='tel:{OWNER_MOBILE}']")).to_be_visible()
    fixer.page.get_by_role("button", name="已联系业主").click()
    expect(fixer.page.get_by_text("已记录：已联系业主。")).to_be_visible()
    fixer.page.fill("textarea[name=result]", "更换了楼上卫生间的止水阀，闭水试验合格。")
    fixer.page.set_input_files("input[name=before]", str(photo))
    fixer.page.set_input_files("input[name=photos]", str(photo))
    fixer.shot("done-form")
    fixer.page.get_by_role("button", name="提交完工").click()
    expect(fixer.page.get_by_text("已提交完工，等待业主验收。")).to_be_visible()
    fixer.shot("done")

    # 4. The owner signs in with the code, accepts the repair and rates it 5.
    owner.goto(f"/owner/sign-in/?next=/cases/c/{number}/")
    page.fill("input[name=mobile]", OWNER_MOBILE)
    page.get_by_role("button", name="获取验证码").click()
    page.fill("input[name=code]", sms_to(OWNER_MOBILE).params["code"])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(rf"/cases/c/{number}/$"))
    expect(page.locator(".case-steps [aria-current=step]")).to_have_text("待您验收")
    owner.shot("to-sign-off")
    page.get_by_label("满意，验收通过").check()
    page.get_by_role("button", name="提交验收结果").click()
    expect(page.get_by_text("验收结果已提交，谢谢！")).to_be_visible()
    page.get_by_label("5").check()
    page.fill("textarea[name=comment]", "师傅很专业，半小时就联系了我。")
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_text("感谢您的评价！")).to_be_visible()
    expect(page.locator(".case-steps [aria-current=step]")).to_have_text("已完成")
    owner.shot("rated")

    # 5. The owner's timeline shows every step, in order, and no staff name.
    steps = page.locator(".case-timeline > li .meta").all_inner_texts()
    whats = [text.rsplit(" · ", 1)[-1] for text in steps]
    expected = ["登记", "上传附件", "派单", "联系业主", "完工", "上传附件", "上传附件", "业主验收", "评价"]
    assert whats == expected, whats
    assert "paidan" not in page.content()
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    rating = CaseEvent.objects.get(case=case, verb="callback")
    assert rating.data["score"] == 5 and rating.data["by_owner"]
    for phone in (owner, desk, fixer):
        phone.assert_stayed_local()
        assert phone.page_errors == []
