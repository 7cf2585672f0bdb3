"""What reaches the search index, and when: FAQs and pages saved in code, drafts, publishing,
child rows of a page, deleting. Searched through the real backend on SQLite and PostgreSQL."""

import pytest
from wagtail.search.backends import get_search_backend
from wagtail.search.models import IndexEntry

from home.models import FAQ, ProgressBulletinPage, StandardPage
from search.segment import parse_query
from tests.factories import BuildingFactory
from tests.portal import add_bulletin, add_faq, publish

pytestmark = pytest.mark.django_db


def found(queryset, text):
    """The objects of ``queryset`` the portal's query for ``text`` finds."""
    return set(get_search_backend().search(parse_query(text).search_query(), queryset))


def test_faq_created_in_code_is_indexed_on_save(portal):
    assert IndexEntry.objects.filter(object_id=str(portal.leak.pk), content_type__model="faq").exists()
    assert found(FAQ.objects.all(), "漏水") == {portal.leak}
    assert found(FAQ.objects.all(), "总阀") == {portal.leak}  # from the rich-text answer
    assert found(FAQ.objects.all(), "保修") == {portal.leak}  # its category, 报修与保修


def test_faq_search_fields_hold_the_segmented_text(portal):
    faq = portal.leak
    assert {"卫生间", "漏水", "怎么办"} <= set(faq.search_title().split())
    assert {"关闭", "总阀", "报修"} <= set(faq.search_words().split())
    assert "<p>" not in faq.search_words()
    assert "漏水怎么办" in faq.search_title_autocomplete().split()


def test_page_search_fields_hold_the_segmented_text(portal):
    words = set(portal.bulletin.search_words().split())
    assert {"主体", "结构", "外立面", "钱塘", "雅苑", "号楼", "施工"} <= words
    assert {"报修", "流程", "Water", "leak", "valve"} <= set(portal.guide.search_words().split())


def test_draft_faq_is_indexed_but_only_live_faqs_are_searched(portal):
    draft = add_faq("装修押金什么时候退？", "<p>验收合格后退还。</p>", category="decoration", live=False)
    assert found(FAQ.objects.all(), "押金") == {draft}
    assert found(FAQ.objects.filter(live=True), "押金") == set()


def test_draft_changes_of_a_live_faq_stay_out_until_published(portal):
    faq = FAQ.objects.get(pk=portal.leak.pk)
    faq.question = "厨房水管爆裂怎么办？"
    revision = faq.save_revision()  # the live row (and so the index) keeps the published text
    assert found(FAQ.objects.all(), "爆裂") == set()
    assert found(FAQ.objects.all(), "卫生间") == {portal.leak}

    revision.publish()
    assert found(FAQ.objects.all(), "爆裂") == {portal.leak}
    assert found(FAQ.objects.all(), "卫生间") == set()


def test_deleted_faq_leaves_the_index(portal):
    pk = portal.leak.pk
    portal.leak.delete()
    assert not IndexEntry.objects.filter(object_id=str(pk), content_type__model="faq").exists()


def test_page_added_in_code_is_indexed(portal):
    page = portal.home.add_child(instance=StandardPage(title="停车位租赁须知", slug="parking", intro="地下车库月租说明"))
    assert found(StandardPage.objects.all(), "车库") == {page}
    assert found(StandardPage.objects.all(), "停车位") == {page}


def test_publishing_indexes_the_pages_child_rows(portal):
    """Progress rows are saved after the page row, so the post_save indexing cannot see them;
    search/signals.py indexes again on publishing."""
    project = portal.project
    bulletin = add_bulletin(
        portal, project, title="2026年11月工程进展", building=BuildingFactory(project=project, code="Q7", name="7号楼")
    )
    bulletin = publish(bulletin)
    assert found(ProgressBulletinPage.objects.all(), "7号楼") == {bulletin}

    draft = ProgressBulletinPage.objects.get(pk=bulletin.pk)
    row = draft.progress.all()[0]
    row.note = "外墙涂料全部完成"
    draft.progress = [row]
    revision = draft.save_revision()
    assert found(ProgressBulletinPage.objects.all(), "涂料") == set()  # a draft
    revision.publish()
    assert found(ProgressBulletinPage.objects.all(), "涂料") == {bulletin}


def test_draft_title_of_a_live_page_is_not_searchable(portal):
    page = StandardPage.objects.get(pk=portal.guide.pk)
    page.title = "电梯维保公告"
    page.save_revision()
    assert found(StandardPage.objects.all(), "电梯") == set()
    assert found(StandardPage.objects.all(), "报修") == {portal.guide}


def test_update_index_rebuilds_the_segmented_index(portal):
    """After a change to search_fields, `manage.py update_index` reindexes existing content."""
    from django.core.management import call_command

    IndexEntry.objects.all().delete()
    assert found(FAQ.objects.all(), "漏水") == set()
    call_command("update_index", verbosity=0)
    assert found(FAQ.objects.all(), "漏水") == {portal.leak}
    assert found(ProgressBulletinPage.objects.all(), "3号楼") == {portal.bulletin}
    assert found(StandardPage.objects.all(), "leak") == {portal.guide}
