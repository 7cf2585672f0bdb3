"""The anonymous page cache (home/pagecache.py), against the real Redis the portal runs on in
production: what is stored, what is never stored, and that publishing shows at once."""

import datetime
import uuid

import pytest
from django.core.cache import cache
from django.db import transaction

from home import pagecache
from home import opendays
from home.models import FAQ
from tests.factories import ProjectFactory
from tests.portal import add_bulletin, add_faq, add_open_day, add_project_page, build_portal, publish

REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",  # parallel runs keep apart
        }
    }
    settings.PAGE_CACHE_SECONDS = 300
    yield
    cache.clear()


@pytest.fixture
def portal(db):
    portal = build_portal()
    project = ProjectFactory(code="HZ01", name="钱塘雅苑")
    add_project_page(portal, project)
    portal.bulletin = add_bulletin(portal, project, title="十月工程进展")
    portal.open_day = add_open_day(portal, project, title="十二月工地开放日",
                                   slots=((datetime.date(2099, 12, 12), 20, 3),))
    portal.faq = add_faq("卫生间漏水怎么办？", "<p>请关闭总阀并报修。</p>")
    return portal


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what waits for the commit (the purge) at the end of the block, as a real commit would;
    the test's own transaction never commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def get(client, url, **extra):
    response = client.get(url, **extra)
    return response, response.headers.get(pagecache.HEADER)


@pytest.mark.parametrize("url", ["/", "/hz01/", "/bulletins/", "/faq/", "/search/?q=漏水"])
def test_second_anonymous_visit_is_served_from_the_cache_without_queries(
    client, portal, url, django_assert_num_queries
):
    first, state = get(client, url)
    assert first.status_code == 200 and state == "miss"
    with django_assert_num_queries(0):
        second, state = get(client, url)
    assert state == "hit"
    assert second.status_code == 200
    assert second.content == first.content


def test_publishing_shows_at_once(client, portal, committed):
    get(client, "/")
    with committed():
        add_bulletin(portal, portal.projects[0].project, title="十一月工程进展")
    response, state = get(client, "/")
    assert state == "miss"
    assert "十一月工程进展" in response.content.decode()


def test_unpublishing_and_snippet_edits_show_at_once(client, portal, committed):
    get(client, "/bulletins/")
    get(client, "/faq/")
    with committed():
        portal.bulletin.unpublish()
    with committed():
        faq = FAQ.objects.get(pk=portal.faq.pk)
        faq.question = "卫生间渗水怎么办？"
        faq.save()
    assert "十月工程进展" not in get(client, "/bulletins/")[0].content.decode()
    assert "卫生间渗水怎么办" in get(client, "/faq/")[0].content.decode()


def test_a_draft_edit_does_not_show_until_published(client, portal, committed):
    get(client, portal.bulletin.url)
    portal.bulletin.title = "十月工程进展（修订）"
    with committed():
        portal.bulletin.save_revision()  # a draft: the live page is unchanged
    response, _ = get(client, portal.bulletin.url)
    assert "修订" not in response.content.decode()
    with committed():
        publish(portal.bulletin)
    assert "修订" in get(client, portal.bulletin.url)[0].content.decode()


def test_seats_left_update_after_a_registration(client, portal, committed):
    slot = portal.open_day.slots.first()
    assert "剩余名额 20 / 20" in get(client, portal.open_day.url)[0].content.decode()
    with committed():
        opendays.register(slot, "王先生", "13800138000", "3-2-1502", 3)
    assert "剩余名额 17 / 20" in get(client, portal.open_day.url)[0].content.decode()


def test_purge_waits_for_the_commit(portal, committed):
    before = pagecache.generation()
    with committed():
        pagecache.purge()
        assert pagecache.generation() == before  # a render now would store under the old one
    assert pagecache.generation() == before + 1


@pytest.mark.django_db(transaction=True)
def test_purge_after_commit_bumps_the_generation():
    before = pagecache.generation()
    with transaction.atomic():
        pagecache.purge()
    assert pagecache.generation() == before + 1


def test_signed_in_visitors_are_never_served_nor_stored(client, portal, admin_user):
    client.force_login(admin_user)
    for _ in range(2):
        response, state = get(client, "/")
        assert response.status_code == 200 and state is None
    client.logout()
    assert get(client, "/")[1] == "miss"  # nothing was stored while signed in


def test_pages_with_a_form_are_not_stored(client, portal):
    slot = portal.open_day.slots.first()
    url = f"/opendays/slots/{slot.pk}/register/"
    response, state = get(client, url)
    assert response.status_code == 200
    assert state is None and "csrftoken" in response.cookies
    assert get(client, url)[1] is None


def test_errors_and_redirects_are_not_stored(client, portal):
    for url in ("/no-such-page/", "/hz01"):  # 404, and the slash redirect
        response, state = get(client, url)
        assert response.status_code in (301, 404) and state is None
        assert get(client, url)[1] is None


def test_each_language_and_query_has_its_own_entry(client, portal):
    zh, _ = get(client, "/")
    en, state = get(client, "/", HTTP_ACCEPT_LANGUAGE="en")
    assert state == "miss" and en.content != zh.content
    assert get(client, "/search/?q=漏水")[1] == "miss"
    assert get(client, "/search/?q=交房")[1] == "miss"
    assert get(client, "/search/?q=漏水")[1] == "hit"


def test_language_switch_sets_no_csrf_cookie_on_pages(client, portal):
    response = client.get("/")
    assert "csrftoken" not in response.cookies
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert switched.status_code == 302
    response, _ = get(client, "/")
    assert 'lang="en"' in response.content.decode()


def test_turned_off_with_zero_seconds(client, portal, settings):
    settings.PAGE_CACHE_SECONDS = 0
    assert get(client, "/")[1] is None
    assert get(client, "/")[1] is None
