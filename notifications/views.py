"""我的通知: the staff member's in-admin inbox. Mounted under /admin/ by wagtail_hooks, so
Wagtail's admin-access check applies; a user only ever sees their own messages."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path

from . import services

PER_PAGE = 50


def inbox(request):
    page = Paginator(services.inbox(request.user), PER_PAGE).get_page(request.GET.get("p"))
    messages = list(page.object_list)
    unread = {message.pk for message in messages if message.read_at is None}
    # Showing a message reads it; the menu's count, rendered after this, already drops them.
    services.mark_read(request.user, unread)
    context = {
        "page": page,
        "elided_page_range": page.paginator.get_elided_page_range(page.number),
        "notifications": messages,
        "unread": unread,
    }
    return render(request, "notifications/inbox.html", context)


def admin_urls():
    return [path("notifications/", inbox, name="notifications_inbox")]
