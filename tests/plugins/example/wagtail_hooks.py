from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem


@hooks.register("register_admin_menu_item")
def register_example_menu_item():
    return MenuItem(
        _("示例插件"), reverse("example:index"), name="example", icon_name="info-circle", order=9000
    )
