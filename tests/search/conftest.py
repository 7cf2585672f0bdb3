"""A small portal with content to search: a project, a bulletin, an open day, FAQs and pages."""

import pytest
from wagtail.rich_text import RichText

from home.models import StandardPage
from tests.factories import BuildingFactory, ProjectFactory
from tests.portal import add_bulletin, add_faq, add_open_day, add_project_page, build_portal, publish


@pytest.fixture
def portal(db):
    portal = build_portal()
    project = ProjectFactory(code="HZ01", name="钱塘雅苑")
    portal.project = project
    add_project_page(portal, project, summary="杭州钱塘新区的改善型住宅，2027年交付")
    bulletin = add_bulletin(
        portal, project, title="2026年10月工程进展", summary="主体结构施工顺利推进，外立面开始施工",
        building=BuildingFactory(project=project, code="Q3", name="3号楼"),
    )
    portal.bulletin = publish(bulletin)  # publishing indexes the progress rows too
    portal.open_day = add_open_day(portal, project, title="钱塘雅苑工地开放日")
    portal.leak = add_faq("卫生间漏水怎么办？", "<p>请立即关闭进水总阀，并拨打物业报修电话。</p>", category="repairs")
    portal.handover = add_faq(
        "交房时需要带哪些材料？", "<p>请带好购房合同、身份证原件和交房通知书。</p>", category="handover"
    )
    portal.fees = add_faq(
        "物业费用怎么交？", "<p>可以在物业服务中心或线上缴纳物业费用。</p>", category="property_fees"
    )
    portal.guide = portal.home.add_child(
        instance=StandardPage(
            title="业主报修指南",
            slug="repair-guide",
            intro="报修流程与保修期限说明",
            body=[
                ("heading", "Water leak in the bathroom"),
                ("paragraph", RichText("<p>If water leaks, shut the <b>main valve</b> first.</p>")),
            ],
        )
    )
    return portal
