"""我的通知: the in-admin inbox shows a staff member their own messages and marks them read."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from notifications import services
from notifications.models import Message
from notifications.wagtail_hooks import register_inbox_menu_item
from tests import factories

pytestmark = pytest.mark.django_db

INBOX = "/admin/notifications/"


def notify(user, n, key="k"):
    return services.send(f"{key}:{n}", user, "generic", {"subject": f"通知{n:03d}", "body": f"正文{n}"},
                         channels=["admin"], url=f"/admin/cases/{n}/")


@pytest.fixture
def two_staff(make_staff):
    return make_staff(username="wang"), make_staff(username="li")


def test_the_inbox_is_mounted_in_the_admin():
    assert reverse("notifications_inbox") == INBOX


def test_a_staff_member_sees_only_their_own_messages_and_reading_marks_them(client, two_staff):
    wang, li = two_staff
    notify(wang, 1)
    notify(wang, 2)
    notify(li, 3)
    client.force_login(wang)

    response = client.get(INBOX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "通知001" in html and "通知002" in html and "正文1" in html
    assert "通知003" not in html
    assert html.index("通知002") < html.index("通知001")  # newest first
    assert 'href="/admin/cases/2/"' in html
    assert html.count("notification--unread") == 2
    assert not Message.objects.filter(user=wang, read_at__isnull=True).exists()
    assert Message.objects.get(user=li).read_at is None

    again = client.get(INBOX).content.decode()
    assert "通知001" in again and "notification--unread" not in again


def test_the_menu_item_counts_unread_messages(two_staff, django_capture_on_commit_callbacks):
    wang, li = two_staff
    item = register_inbox_menu_item()
    request = RequestFactory().get("/admin/")
    request.user = wang
    assert item.render_component(request).label == "我的通知"
    with django_capture_on_commit_callbacks(execute=True):
        notify(wang, 1)
        notify(wang, 2)
        notify(wang, 2)  # the same key again: nothing new
        notify(li, 3)
    assert item.render_component(request).label == "我的通知（2）"
    services.mark_read(wang, [m.pk for m in Message.objects.filter(user=wang)[:1]])
    assert item.render_component(request).label == "我的通知（1）"


def test_admin_pages_read_the_count_from_the_cache(client, make_staff, django_assert_max_num_queries,
                                                   django_capture_on_commit_callbacks):
    wang = make_staff()
    notify(wang, 1)
    client.force_login(wang)  # counts the inbox once

    def inbox_queries():
        with django_assert_max_num_queries(30) as captured:
            html = client.get("/admin/").content.decode("unicode_escape")
        return html, [q for q in captured.captured_queries if "notifications_message" in q["sql"]]

    html, queries = inbox_queries()
    assert "我的通知（1）" in html and queries == []
    with django_capture_on_commit_callbacks(execute=True):
        notify(wang, 2)
    html, queries = inbox_queries()
    assert "我的通知（2）" in html and queries == []
    client.get(INBOX)  # reads both
    html, queries = inbox_queries()
    assert "我的通知（" not in html and queries == []


def test_the_count_stops_at_99_plus(make_staff):
    wang = make_staff()
    Message.objects.bulk_create(
        Message(key=f"k:{n}", channel="admin", recipient=f"user:{wang.pk}", user=wang, template="generic",
                subject="x", status="sent")
        for n in range(services.UNREAD_CAP + 5)
    )
    request = RequestFactory().get("/admin/")
    request.user = wang
    assert register_inbox_menu_item().render_component(request).label == "我的通知（99+）"


def test_the_admin_sidebar_shows_the_item(client, make_staff):
    wang = make_staff()
    notify(wang, 1)
    client.force_login(wang)
    html = client.get("/admin/").content.decode("unicode_escape")
    assert "我的通知（1）" in html and INBOX in html


def test_the_inbox_needs_an_admin_login(client, make_staff):
    assert client.get(INBOX).status_code == 302
    outsider = factories.UserFactory(is_staff=False)
    notify(outsider, 1)
    client.force_login(outsider)
    assert client.get(INBOX).status_code in (302, 403)
    assert Message.objects.get().read_at is None


def test_subjects_are_escaped(client, make_staff):
    wang = make_staff()
    services.send("k:xss", wang, "generic", {"subject": "<script>alert(1)</script>", "body": "<b>粗</b>"},
                  channels=["admin"])
    client.force_login(wang)
    html = client.get(INBOX).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;粗&lt;/b&gt;" in html


def test_an_empty_inbox_says_so(client, make_staff):
    client.force_login(make_staff())
    assert "还没有通知。" in client.get(INBOX).content.decode()


def test_only_the_page_shown_is_marked_read(client, make_staff):
    wang = make_staff()
    for n in range(60):
        notify(wang, n)
    client.force_login(wang)
    html = client.get(INBOX).content.decode()
    assert "通知059" in html and "通知010" in html and "通知009" not in html
    assert Message.objects.filter(user=wang, read_at__isnull=True).count() == 10
    html = client.get(INBOX, {"p": 2}).content.decode()
    assert "通知009" in html and html.count("notification--unread") == 10
    assert not Message.objects.filter(user=wang, read_at__isnull=True).exists()


@pytest.mark.parametrize("count", [1, 50])
def test_inbox_query_count_does_not_grow_with_the_messages(client, make_staff, count, django_assert_max_num_queries):
    wang = make_staff()
    other = make_staff()
    for n in range(count):
        notify(wang, n)
        notify(other, n)
    client.force_login(wang)
    with django_assert_max_num_queries(13) as captured:
        response = client.get(INBOX)
    assert response.status_code == 200
    assert response.content.decode().count("notification--unread") == count
    inbox_queries = [q["sql"] for q in captured.captured_queries if "notifications_message" in q["sql"]]
    assert len(inbox_queries) == 4  # the page, its count, the mark-read update, the menu's unread count
