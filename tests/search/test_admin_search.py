"""Staff search in the Wagtail admin finds Chinese substrings.

* The FAQ listing searches with the ORM (``icontains``; home/viewsets.py).
* Wagtail's page search and page explorer, and the FAQ chooser, use the search backend's
  *autocomplete*, which matches the start of a token only; without segmentation a whole Chinese
  title is one token and "漏水" cannot find "卫生间漏水维修指南". The ``search_title_autocomplete``
  AutocompleteField (every suffix of the title's CJK runs, search/segment.py) fixes that.
"""

import re

import pytest

from home.models import FAQ, StandardPage
from tests.portal import add_faq

pytestmark = pytest.mark.django_db


def titles_in(html, candidates):
    return {title for title in candidates if title in html}


@pytest.fixture
def pages(portal):
    titles = ["卫生间漏水维修指南", "电梯停运通知", "Bathroom leak guide"]
    for i, title in enumerate(titles):
        portal.home.add_child(instance=StandardPage(title=title, slug=f"admin-search-{i}"))
    return titles


def test_faq_listing_finds_chinese_substrings(admin_client, portal):
    html = admin_client.get("/admin/snippets/home/faq/", {"q": "漏水"}).content.decode()
    assert titles_in(html, [f.question for f in FAQ.objects.all()]) == {"卫生间漏水怎么办？"}
    html = admin_client.get("/admin/snippets/home/faq/", {"q": "时需要"}).content.decode()
    assert titles_in(html, [f.question for f in FAQ.objects.all()]) == {"交房时需要带哪些材料？"}


@pytest.mark.parametrize(
    "query,expected",
    [
        ("漏水", {"卫生间漏水维修指南"}),  # mid-title
        ("间漏水维", {"卫生间漏水维修指南"}),  # any substring, not only jieba's words
        ("维修指南", {"卫生间漏水维修指南"}),
        ("停运", {"电梯停运通知"}),
        ("卫生间 指南", {"卫生间漏水维修指南"}),  # two words
        ("lea", {"Bathroom leak guide"}),  # English prefixes as before
        ("漏水 电梯", set()),
    ],
)
def test_admin_page_search_finds_chinese_substrings_of_titles(admin_client, pages, query, expected):
    response = admin_client.get("/admin/pages/search/", {"q": query})
    assert response.status_code == 200
    assert titles_in(response.content.decode(), pages) == expected


def test_page_explorer_search_finds_chinese_substrings(admin_client, portal, pages):
    html = admin_client.get(f"/admin/pages/{portal.home.pk}/", {"q": "停运"}).content.decode()
    assert titles_in(html, pages) == {"电梯停运通知"}


def test_faq_chooser_finds_chinese_substrings(admin_client, portal):
    add_faq("车库漏水谁负责维修？", "<p>由物业负责。</p>")
    response = admin_client.get("/admin/snippets/choose/home/faq/", {"q": "漏水"})
    assert response.status_code == 200
    html = re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), response.content.decode())
    assert titles_in(html, [f.question for f in FAQ.objects.all()]) == {"卫生间漏水怎么办？", "车库漏水谁负责维修？"}
