"""The portal's demo content (home/demo.py): built once, repeatable, live, indexed and rendered."""

import datetime
import io
import os
import time

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from PIL import Image as PILImage
from PIL import ImageFont
from wagtail.images import get_image_model
from wagtail.models import Collection, Page, Revision
from wagtail.search.models import IndexEntry

from estates.models import Building, Project
from home import demo
from home.demo import seed_portal
from home.models import (
    FAQ,
    AdverseFactor,
    FAQCategory,
    HomePage,
    OpenDayPage,
    OpenDaySlot,
    ProgressBulletinPage,
    ProjectPage,
    StandardPage,
)
from tests.factories import BuildingFactory, ProjectFactory

Image = get_image_model()


def snapshot():
    """Row counts of everything the seeder writes."""
    return {
        model.__name__: model.objects.count()
        for model in (Page, Revision, Image, FAQ, AdverseFactor, OpenDaySlot, Project, Building)
    }


def in_body(page, block_type):
    return [block.value for block in page.body if block.block_type == block_type]


@pytest.mark.django_db
def test_seeding_twice_builds_the_portal_once_on_an_existing_registry():
    # As after estates' seed_demo: 映月澜庭 exists (with its own name and only three buildings);
    # 锦江悦府 does not and is created minimally.
    hz = ProjectFactory(code="HZ-YYLT", name="映月澜庭（档案名）", hotline="400-000-5101")
    hz_buildings = [BuildingFactory(project=hz, code=code, name=f"{code}号楼", floors=18) for code in "156"]
    today = timezone.localdate()

    first = seed_portal()
    assert first == {"projects": 1, "home": 1, "pages": 16, "images": 15, "faqs": 33, "adverse_factors": 15}

    before = snapshot()
    started = time.monotonic()
    assert seed_portal() == {}
    assert time.monotonic() - started < 1.0
    assert snapshot() == before

    # The registry: the existing project kept as it is, the missing one created with buildings.
    hz.refresh_from_db()
    assert hz.name == "映月澜庭（档案名）" and hz.buildings.count() == 3
    cd = Project.objects.get(code="CD-JJYF")
    assert cd.name == "安居·锦江悦府"
    assert sorted(cd.buildings.values_list("code", flat=True)) == ["1", "2", "3", "5", "6"]

    # Every page under home is live, published from a revision.
    home = HomePage.objects.get()
    pages = Page.objects.descendant_of(home, inclusive=True)
    assert pages.count() == 17
    assert not pages.not_live().exists()
    assert not pages.filter(live_revision__isnull=True).exists()
    assert home.intro and home.hotline == demo.HOTLINE
    assert set(home.get_children().values_list("slug", flat=True)) >= {
        "bulletins", "open-days", "faq", "repair-guide", "service-promise", "hz-yylt", "cd-jjyf",
    }
    assert StandardPage.objects.live().count() == 2

    # Project pages: hero image, texts and a timeline ticked up to today.
    for page in ProjectPage.objects.select_related("project"):
        assert page.slug == page.project.code.lower()
        assert page.hero_image and page.summary and page.service_plan and page.delivery_standard
        milestones = [block.value for block in page.milestones]
        assert len(milestones) >= 5
        assert all(m["done"] == (m["date"] <= today) for m in milestones)
        assert any(m["done"] for m in milestones) and any(not m["done"] for m in milestones)
    assert ProjectPage.objects.get(project=hz).title == "映月澜庭（档案名）"

    # Bulletins: 3–4 per project over recent months, progress per building of that project.
    for project, expected in ((hz, 3), (cd, 4)):
        bulletins = list(ProgressBulletinPage.objects.filter(project=project).order_by("issue_date"))
        assert len(bulletins) == expected
        assert len({b.period for b in bulletins}) == expected
        for bulletin in bulletins:
            assert today - datetime.timedelta(days=160) < bulletin.issue_date <= today
            assert bulletin.cover_image is not None
            rows = list(bulletin.progress.all())
            assert rows and {row.building.project_id for row in rows} == {project.pk}
            assert all(0 <= row.percent <= 100 and row.note for row in rows)
            assert len(in_body(bulletin, "paragraph")) >= 2
            (gallery,) = in_body(bulletin, "gallery")
            assert len(gallery["images"]) >= 3
            assert all(item["caption"] and item["alt"] for item in gallery["images"])
            (image,) = in_body(bulletin, "image")
            assert image["image"] and image["caption"]
    hz_rows = ProgressBulletinPage.objects.filter(project=hz).values_list("progress__building", flat=True)
    assert set(hz_rows) == {b.pk for b in hz_buildings if b.code in ("5", "6")}

    # Two upcoming open days, one of each kind, with 2–3 future slots.
    open_days = list(OpenDayPage.objects.live())
    assert sorted(day.kind for day in open_days) == ["mock_inspection", "open_day"]
    for day in open_days:
        slots = list(day.slots.all())
        assert 2 <= len(slots) <= 3
        assert all(slot.date > today and slot.start < slot.end and slot.capacity > 0 for slot in slots)
        assert day.first_date == min(slot.date for slot in slots)
    assert OpenDaySlot.upcoming(today).count() == 5

    # FAQs: 20+ live with a published revision, in every category; the ones search tests need.
    faqs = FAQ.objects.filter(live=True)
    assert faqs.count() >= 20
    assert not faqs.filter(live_revision__isnull=True).exists()
    assert set(faqs.values_list("category", flat=True)) == set(FAQCategory.values)
    assert faqs.filter(question__contains="漏水", category="repairs").exists()
    assert faqs.filter(question__contains="交房", category="handover").exists()
    assert FAQ.objects.get(question__contains="露台").projects.get() == hz

    # Adverse factors per project: several categories, inside and outside the boundary.
    for project in (hz, cd):
        factors = AdverseFactor.objects.filter(project=project, live=True, live_revision__isnull=False)
        assert factors.count() >= 5
        assert len(set(factors.values_list("category", flat=True))) >= 4
        assert set(factors.values_list("inside_boundary", flat=True)) == {True, False}
        assert not factors.filter(distance_m__isnull=True).exists()
    assert AdverseFactor.objects.filter(photo__isnull=False).exists()

    # Images: JPEGs with their size, in the root collection, titled in Chinese.
    root = Collection.get_first_root_node()
    for image in Image.objects.all():
        assert (image.width, image.height) == (1200, 675)
        assert image.collection_id == root.pk and image.file_size > 0 and image.file_hash
        assert any("\u4e00" <= ch <= "\u9fff" for ch in image.title)
        with image.open_file() as f:
            assert PILImage.open(f).size == (1200, 675)

    # Indexed once at the end: every page and FAQ has its search entry.
    entries = IndexEntry.objects.values_list("content_type_id", "object_id")
    faq_ct = ContentType.objects.get_for_model(FAQ).pk
    assert {(faq_ct, str(pk)) for pk in faqs.values_list("pk", flat=True)} <= set(entries)
    page_ids = {object_id for _ct, object_id in entries}
    assert {str(pk) for pk in pages.values_list("pk", flat=True)} <= page_ids


@pytest.mark.django_db
def test_demo_pages_render_and_editor_edits_survive_a_second_run(client):
    seed_portal()  # no registry at all: both projects are created
    project = ProjectPage.objects.get(slug="hz-yylt")
    bulletin = ProgressBulletinPage.objects.filter(project=project.project).order_by("issue_date").last()
    open_day = OpenDayPage.objects.get(kind="mock_inspection")

    pages = {
        "/": "映月澜庭",
        project.url: "不利因素公示",
        bulletin.url: bulletin.progress.first().note,
        "/open-days/": open_day.title,
        open_day.url: open_day.place,
        "/faq/?category=repairs": "卫生间漏水怎么办",
        "/faq/?category=handover": "交房",
        "/repair-guide/": "30 分钟内",
    }
    for url, text in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url

    # An editor changes a bulletin and an FAQ, and deletes a service page; a second run keeps
    # the edits (it finds pages by slug and FAQs by question) and recreates only what is gone.
    bulletin.summary = "编辑修改后的摘要"
    bulletin.save_revision().publish()
    faq = FAQ.objects.get(question="卫生间漏水怎么办？")
    faq.answer = "<p>编辑改写的回答</p>"
    faq.save_revision().publish()
    home = HomePage.objects.get()
    home.intro = "<p>编辑写的首页简介</p>"
    home.save_revision().publish()
    StandardPage.objects.get(slug="service-promise").delete()

    assert seed_portal() == {"pages": 1}
    bulletin.refresh_from_db()
    faq.refresh_from_db()
    home.refresh_from_db()
    assert bulletin.summary == "编辑修改后的摘要"
    assert faq.answer == "<p>编辑改写的回答</p>"
    assert home.intro == "<p>编辑写的首页简介</p>"
    assert StandardPage.objects.get(slug="service-promise").live


def test_dates_stay_relative_to_today():
    today = datetime.date(2026, 1, 31)
    assert demo.month_day(today, -1, 31) == datetime.date(2025, 12, 31)
    assert demo.month_day(today, 1, 31) == datetime.date(2026, 2, 28)
    assert demo.month_day(today, -13, 5) == datetime.date(2024, 12, 5)
    saturday = demo.next_weekday(today, 5, 7)  # today is a Saturday
    assert saturday == datetime.date(2026, 2, 7) and saturday.weekday() == 5
    assert demo.next_weekday(datetime.date(2026, 2, 2), 6, 8) == datetime.date(2026, 2, 15)


def test_pictures_are_captioned_only_with_a_font_that_draws_chinese(monkeypatch):
    plain = demo.draw_picture("hz-gate", "gate", "dawn", "小区主入口")
    assert PILImage.open(io.BytesIO(plain)).size == (1200, 675)
    # DejaVu has no CJK glyphs: rejected as a caption font.
    dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    latin = ImageFont.truetype(dejavu, 34) if os.path.exists(dejavu) else ImageFont.load_default(34)
    assert not demo._draws_cjk(latin)
    # With a caption font, the caption band is drawn.
    monkeypatch.setattr(demo, "cjk_font", lambda size: latin)
    assert demo.draw_picture("hz-gate", "gate", "dawn", "Main gate") != plain
