import pytest

from tests.factories import ProjectFactory
from tests.portal import add_adverse_factor, add_bulletin, add_faq, add_open_day, add_project_page, build_portal


@pytest.fixture
def portal(db):
    portal = build_portal()
    project = ProjectFactory(code="HZ01", name="钱塘雅苑")
    add_project_page(portal, project, summary="杭州钱塘新区的改善型住宅")
    add_bulletin(portal, project)
    add_open_day(portal, project)
    add_faq("卫生间漏水怎么办？", "<p>请立即关闭总阀并报修。</p>")
    add_adverse_factor(project)
    return portal


@pytest.mark.parametrize("path", ["/", "/hz01/", "/bulletins/", "/bulletins/2026年10月工程进展/", "/open-days/", "/faq/"])
def test_portal_pages_render(client, portal, path):
    url = {"/bulletins/2026年10月工程进展/": portal.bulletin_index.get_children().first().url}.get(path, path)
    response = client.get(url)
    assert response.status_code == 200, url
