"""The portal's search page: what it finds, grouping, highlighting, links, paging, bad input and
query counts. Runs on SQLite and on PostgreSQL (DATABASE_URL)."""

import datetime
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.template.loader import render_to_string
from wagtail.models import PageViewRestriction

from home.models import StandardPage
from search.results import PAGE_SIZE, PREVIEW_SIZE
from tests.portal import add_bulletin, add_faq, add_open_day

pytestmark = pytest.mark.django_db


def get(client, **params):
    response = client.get("/search/", params)
    assert response.status_code == 200
    return response.content.decode()


def main(html):
    return html[html.index('<main id="main">') : html.index("</main>")]


def result_titles(html):
    """The result titles, <mark> tags removed, in page order."""
    titles = re.findall(r"<h3>(.*?)</h3>", main(html), re.S)
    return [re.sub(r"<[^>]+>", "", title).strip() for title in titles]


def group_headings(html):
    return re.findall(r"<h2 id=\"search-group-\w+\">(.*?)</h2>", html)


def test_leak_finds_the_faq_and_links_to_its_anchor(client, portal):
    html = get(client, q="漏水")
    assert result_titles(html) == ["卫生间漏水怎么办？"]
    assert group_headings(html) == ["常见问题"]
    link = re.search(r'<h3><a href="([^"]+)">', html).group(1)
    assert link == f"/faq/?category=repairs#faq-{portal.leak.pk}"
    faq_page = client.get(link).content.decode()
    assert f'id="faq-{portal.leak.pk}"' in faq_page


def test_handover_finds_the_handover_faq(client, portal):
    assert result_titles(get(client, q="交房")) == ["交房时需要带哪些材料？"]


def test_a_two_word_query_needs_both_words(client, portal):
    assert "卫生间漏水怎么办？" not in result_titles(get(client, q="漏水 物业费"))
    both = add_faq("楼上漏水，维修费用由谁承担？", "<p>由责任方承担；公共部位由物业费中的维修资金列支。</p>")
    assert result_titles(get(client, q="漏水 物业费")) == [both.question]
    assert result_titles(get(client, q="物业费 漏水")) == [both.question]


def test_a_word_cut_differently_by_jieba_is_still_found(client, portal):
    # jieba cuts the query into 物业/物业费 but the question into 物业/费用; the bigrams match.
    assert result_titles(get(client, q="物业费")) == ["物业费用怎么交？"]


def test_english_still_works(client, portal):
    html = get(client, q="leak")
    assert result_titles(html) == ["业主报修指南"]
    assert "Water <mark>leak</mark> in the bathroom" in html
    assert result_titles(get(client, q="MAIN VALVE")) == ["业主报修指南"]


def test_results_are_grouped_in_order_and_highlighted(client, portal):
    html = get(client, q="钱塘雅苑")
    assert group_headings(html) == ["工程进展", "开放日", "页面"]
    assert "<mark>钱塘雅苑</mark>工地开放日" in html
    assert "钱塘雅苑 · 2026年10月31日 · 主体施工" in html  # the bulletin's project, date and stage
    html = get(client, q="报修")
    assert group_headings(html) == ["常见问题", "页面"]
    assert "业主<mark>报修</mark>指南" in html and "拨打物业<mark>报修</mark>电话" in html


def test_building_progress_is_searchable(client, portal):
    assert result_titles(get(client, q="3号楼")) == ["2026年10月工程进展"]


def test_type_filter_shows_one_group_with_counts_for_all(client, portal):
    html = get(client, q="钱塘雅苑", type="openday")
    assert group_headings(html) == ["开放日"]
    assert result_titles(html) == ["钱塘雅苑工地开放日"]
    assert "工程进展（1）" in html and 'aria-current="page">开放日（1）' in html
    assert group_headings(get(client, q="钱塘雅苑", type="nonsense")) == ["工程进展", "开放日", "页面"]


def test_content_is_escaped(client, portal):
    add_faq("<script>alert(1)</script>漏水", "<p>&lt;img src=x onerror=alert(1)&gt; 漏水</p>")
    html = get(client, q="漏水")
    assert "<script>alert(1)</script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<mark>漏水</mark>" in html


def test_drafts_unpublished_and_private_content_are_not_found(client, portal):
    add_faq("装修押金什么时候退？", "<p>验收合格后退还。</p>", category="decoration", live=False)
    draft_page = portal.home.add_child(instance=StandardPage(title="装修押金退还说明", slug="deposit", live=False))
    assert draft_page.live is False
    assert result_titles(get(client, q="押金")) == []

    portal.fees.unpublish()
    assert result_titles(get(client, q="物业费")) == []

    portal.guide.unpublish()
    assert result_titles(get(client, q="leak")) == []

    private = portal.home.add_child(instance=StandardPage(title="内部员工值班表", slug="duty"))
    assert result_titles(get(client, q="值班")) == ["内部员工值班表"]
    PageViewRestriction.objects.create(page=private, restriction_type="login")
    assert result_titles(get(client, q="值班")) == []


def test_overview_previews_each_group_and_the_group_listing_is_paginated(client, portal):
    for i in range(12):
        add_faq(f"外墙渗水问题之{i + 1}", "<p>渗水请报修。</p>", category="repairs", live=True)
    html = get(client, q="渗水")
    assert len(result_titles(html)) == PREVIEW_SIZE
    assert "查看全部 12 条常见问题结果" in html
    assert "type=faq" in re.search(r'<p class="more"><a href="([^"]+)"', html).group(1)

    first = get(client, q="渗水", type="faq")
    second = get(client, q="渗水", type="faq", page=2)
    assert len(result_titles(first)) == PAGE_SIZE and len(result_titles(second)) == 2
    assert '<ol class="search-results" start="11">' in second
    assert not set(result_titles(first)) & set(result_titles(second))
    assert "第 1 / 2 页" in first and 'rel="next"' in first and "page=2" in first
    assert result_titles(get(client, q="渗水", type="faq", page="abc")) == result_titles(first)
    assert result_titles(get(client, q="渗水", type="faq", page=99)) == result_titles(second)


def test_faq_links_point_at_the_index_page_that_shows_the_faq(client, portal):
    faqs = [add_faq(f"毛坯房交付标准第{i + 1}条", "<p>详见交付标准。</p>", category="handover") for i in range(23)]
    last = faqs[-1]
    html = get(client, q=last.question, type="faq")
    link = re.search(rf'href="([^"]*#faq-{last.pk})"', html).group(1).replace("&amp;", "&")
    assert "page=2" in link and "category=handover" in link
    assert f'id="faq-{last.pk}"' in client.get(link).content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "！？。，、"},
        {"q": "🙂🏠🔥"},
        {"q": "漏水\x00"},
        {"q": "' OR 1=1; DROP TABLE home_faq; --"},
        {"q": '"漏水'},
        {"q": "漏水 AND NOT OR NEAR(a b) * ^ :"},
        {"q": "%s %(x)s {0}"},
        {"q": "&:*!|<->'"},
        {"q": "<script>alert(1)</script>"},
        {"q": "漏" * 10_000},
        {"q": "漏水", "type": "<b>", "page": "-1"},
        {"q": "漏水", "page": "9" * 30},
    ],
)
def test_bad_input_never_fails(client, portal, params):
    html = get(client, **params)  # 200, never a 500
    assert "<script>alert(1)</script>" not in html


def test_punctuation_only_query_explains_itself(client, portal):
    html = get(client, q="！？🙂")
    assert "没有可以搜索的文字" in html and result_titles(html) == []


def test_too_long_query_is_cut_with_a_notice(client, portal):
    html = get(client, q="漏水" + "啊" * 200)
    assert "搜索词太长，只按前 100 个字搜索。" in html
    assert 'value="漏水' in html


def test_emoji_next_to_a_word_still_finds_it(client, portal):
    assert result_titles(get(client, q="🙂漏水！")) == ["卫生间漏水怎么办？"]


def test_post_is_refused(client, portal):
    assert client.post("/search/", {"q": "漏水"}).status_code == 405


def test_page_is_accessible(client, portal):
    html = get(client, q="报修")
    assert re.search(r'<label for="search-page-q">[^<]+</label>\s*<input id="search-page-q" type="search" name="q"', html)
    assert '<p role="status">找到 2 条与“报修”相关的结果。</p>' in html
    assert "<title>“报修”的搜索结果（2 条） · 安居业主服务</title>" in html
    levels = [int(n) for n in re.findall(r"<h([1-6])", main(html))]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:]))
    assert "<script" not in main(html)


def test_empty_query_shows_the_form_and_a_hint(client, portal):
    html = get(client)
    assert 'name="q"' in html and "例如“漏水”" in html and 'role="status"' not in html


def test_header_search_form_include_has_a_label():
    html = render_to_string("includes/search_form.html", {"search_query": "漏水"})
    assert '<form class="search-form" action="/search/" method="get" role="search">' in html
    assert '<label for="site-search-q" class="visually-hidden">搜索本站内容</label>' in html
    assert 'id="site-search-q" type="search" name="q" value="漏水"' in html


def _fill(portal, start, stop):
    """Bulletins, FAQs, open days and pages numbered start..stop-1 that all match 工程."""
    for i in range(start, stop):
        add_bulletin(
            portal, portal.project, title=f"第{i + 1}期工程进展简报",
            issue_date=datetime.date(2026, 1, 1) + datetime.timedelta(days=i),
        )
        add_faq(f"工程质量问题{i + 1}", "<p>工程质量由监理单位把关。</p>")
        if i < 12:
            add_open_day(portal, portal.project, title=f"工程开放日第{i + 1}场")
            portal.home.add_child(instance=StandardPage(title=f"工程说明{i + 1}", slug=f"gongcheng-{i}"))


def _queries(client, django_assert_max_num_queries, **params):
    """Queries for one results page on cold caches (content types, Wagtail's site roots) and
    then on warm ones; at most 9 and 6."""
    cache.clear()
    ContentType.objects.clear_cache()
    with django_assert_max_num_queries(9) as cold:
        get(client, **params)
    with django_assert_max_num_queries(6) as warm:
        html = get(client, **params)
    return len(cold.captured_queries), len(warm.captured_queries), html


def test_query_count_does_not_grow_with_the_hits(client, portal, django_assert_max_num_queries):
    _fill(portal, 0, 1)
    small = _queries(client, django_assert_max_num_queries, q="工程")
    _fill(portal, 1, 50)
    large = _queries(client, django_assert_max_num_queries, q="工程")
    assert group_headings(large[2]) == ["工程进展", "开放日", "常见问题", "页面"]
    # 50 + the fixture's bulletin; 50 FAQs
    assert "查看全部 51 条工程进展结果" in large[2] and "查看全部 50 条常见问题结果" in large[2]
    assert small[:2] == large[:2]
    for kind in ("bulletin", "openday", "faq", "page"):
        _queries(client, django_assert_max_num_queries, q="工程", type=kind, page=2)


def test_hits_are_capped(client, portal, monkeypatch):
    from search import results

    monkeypatch.setattr(results, "MAX_HITS", 3)
    for i in range(5):
        add_faq(f"车位租赁问题{i + 1}", "<p>车位请咨询物业。</p>")
    html = get(client, q="车位")
    assert "找到超过 3 条与“车位”相关的结果。" in html and "常见问题（3+）" in html


def test_search_page_in_english(client, portal):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = get(client, q="漏水")
    assert "<title>Results for “漏水” (1) · " in html
    assert "1 result for “漏水”." in html and ">FAQs</h2>" in html and "Search this site" in html
