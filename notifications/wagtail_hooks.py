from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.sidebar import LinkMenuItem

from . import services
from .views import admin_urls


class InboxMenuItem(MenuItem):
    """我的通知, with the number of unread messages (one indexed count per admin page)."""

    def render_component(self, request):
        count = services.unread_count(request.user)
        label = self.label
        if count:
            shown = f"{services.UNREAD_CAP - 1}+" if count >= services.UNREAD_CAP else str(count)
            label = _("我的通知（%(count)s）") % {"count": shown}
        return LinkMenuItem(self.name, label, self.url, icon_name=self.icon_name, attrs=self.attrs)


@hooks.register("register_admin_urls")
def register_inbox_urls():
    return admin_urls()


@hooks.register("register_admin_menu_item")
def register_inbox_menu_item():
    return InboxMenuItem(
        gettext_lazy("我的通知"),
        reverse_lazy("notifications_inbox"),
        name="notifications",
        icon_name="mail",
        order=150,
    )
