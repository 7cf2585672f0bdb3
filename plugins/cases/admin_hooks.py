"""Admin wiring beyond the case desk's viewsets, loaded by wagtail_hooks: the import of
historic cases (its pages and menu item) and the admin home's warning about a year without
public-holiday data (checks.missing_holidays, the same finding as cases.W001)."""

from django.urls import reverse, reverse_lazy
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component

from .checks import missing_holidays
from .import_views import admin_urls as import_admin_urls
from .import_views import may_import
from .viewsets import case_policy


@hooks.register("register_admin_urls")
def register_import_urls():
    """/admin/cases/import/: historic cases from an .xlsx."""
    return import_admin_urls()


class ImportMenuItem(MenuItem):
    def is_shown(self, request):
        return may_import(request.user)


@hooks.register("register_admin_menu_item")
def register_import_menu_item():
    # Right below the 客服工单 menu (order 180).
    return ImportMenuItem(
        gettext_lazy("导入历史工单"), reverse_lazy("cases_import"), name="cases-import", icon_name="upload", order=181
    )


class HolidayDataPanel(Component):
    """Shown above the other panels while a working calendar in use lacks a year's holidays."""

    order = 50

    def render_html(self, parent_context=None):
        missing = missing_holidays()
        if missing is None:
            return ""
        link = ""
        if parent_context["request"].user.has_perm("cases.add_workcalendarday"):
            link = format_html(
                ' <a href="{}">{}</a>', reverse("wagtailsnippets_cases_workcalendarday:list"), _("前往录入")
            )
        return format_html(
            '<section class="help-block help-warning w-mb-8" role="alert" aria-labelledby="cases-holidays-heading">'
            '<h2 class="w-h3" id="cases-holidays-heading">{}</h2><p>{}</p><p>{}{}</p></section>',
            _("工作日历缺少节假日数据"), missing.message, missing.hint, link,
        )


@hooks.register("construct_homepage_panels")
def add_holiday_data_panel(request, panels):
    if case_policy().user_has_permission(request.user, "view"):
        panels.append(HolidayDataPanel())
