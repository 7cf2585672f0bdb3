"""Issue 4's query budget: each public portal page renders in at most 10 SQL queries, and the
count does not grow with the content (1 bulletin or 50, with cover images and galleries)."""

import datetime
import io

import pytest
from django.core.files.images import ImageFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image as PILImage
from wagtail.images import get_image_model

from tests.factories import ProjectFactory
from tests.portal import (
    add_adverse_factor,
    add_bulletin,
    add_faq,
    add_open_day,
    add_project_page,
    build_portal,
)

BUDGET = 10


def make_image(title, color=(90, 120, 160)):
    buffer = io.BytesIO()
    PILImage.new("RGB", (1200, 675), color).save(buffer, "JPEG")
    return get_image_model().objects.create(
        title=title, file=ImageFile(io.BytesIO(buffer.getvalue()), name=f"{title}.jpg")
    )


def gallery_body(images):
    return [
        {"type": "paragraph", "value": "<p>本月完成主体结构施工。</p>"},
        {"type": "gallery", "value": {"title": "现场照片", "images": [
            {"image": image.pk, "caption": f"照片{n}", "alt": ""} for n, image in enumerate(images)
        ]}},
        {"type": "image", "value": {"image": images[0].pk, "caption": "塔吊作业", "alt": ""}},
    ]


class Site:
    """A portal with two projects; ``grow(n)`` adds bulletins, open days, FAQs and adverse
    factors, every list item with an image, until there are ``n`` of each."""

    def __init__(self):
        self.portal = build_portal()
        self.images = [make_image(f"图{n}", (40 * n % 255, 90, 160)) for n in range(4)]
        self.project = ProjectFactory(code="HZ01", name="钱塘雅苑")
        self.project_page = add_project_page(
            self.portal, self.project, summary="杭州钱塘新区的改善型住宅", hero_image=self.images[0],
            milestones=[{"type": "milestone", "value": {
                "date": "2026-06-30", "title": "主体封顶", "description": "", "done": True}}],
        )
        add_project_page(self.portal, ProjectFactory(code="HZ02", name="西溪云庐"), hero_image=self.images[1])
        self.size = 0

    def grow(self, size):
        portal, project, images = self.portal, self.project, self.images
        for n in range(self.size, size):
            add_bulletin(
                portal, project, title=f"2026年第{n + 1}期工程进展", cover_image=images[n % 4],
                issue_date=datetime.date(2026, 1, 1) + datetime.timedelta(days=n),
                body=gallery_body(images),
            )
            add_open_day(portal, project, title=f"第{n + 1}场工地开放日",
                         slots=((datetime.date(2026, 12, 12), 20, 3), (datetime.date(2026, 12, 13), 20, 3)))
            add_faq(f"卫生间漏水怎么办（{n}）？", "<p>请立即关闭总阀并报修。</p>", projects=[project])
            add_adverse_factor(project, title=f"城市快速路{n}", photo=images[n % 4])
        self.size = size

    def urls(self):
        portal = self.portal
        return {
            "home": "/",
            "project": self.project_page.url,
            "bulletin index": portal.bulletin_index.url,
            "bulletin": portal.bulletin_index.get_children().live().first().url,
            "open-day index": portal.openday_index.url,
            "open day": portal.openday_index.get_children().live().first().url,
            "FAQ index": portal.faq_index.url,
            "search": "/search/?q=漏水",
        }


def count_queries(client, url):
    client.get(url)  # the first request warms Wagtail's site/root-path caches and renditions
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries), [q["sql"] for q in queries.captured_queries]


@pytest.fixture
def freeze_today():
    import time_machine

    with time_machine.travel(datetime.datetime(2026, 11, 24, 9, 0, tzinfo=datetime.timezone.utc), tick=False):
        yield


def test_each_page_within_budget_and_flat(db, client, freeze_today):
    site = Site()
    report = {}
    for size in (1, 50):
        site.grow(size)
        for name, url in site.urls().items():
            report.setdefault(name, []).append(count_queries(client, url))
    print("queries with 1 and 50 items:", {name: [n for n, _ in runs] for name, runs in report.items()})
    for name, ((small, small_sql), (large, large_sql)) in report.items():
        assert small <= BUDGET, (name, small, small_sql)
        assert large <= BUDGET, (name, large, large_sql)
        assert small == large, (name, small, large, large_sql)
