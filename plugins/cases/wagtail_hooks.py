"""The case desk in the Wagtail admin: the 客服工单 menu (queues, the case list, categories,
calendars), the call-back desk (回访台) and the case look-up the scoped list and chooser use."""

from wagtail import hooks
from wagtail.snippets.models import register_snippet

from estates.search import SEARCHERS

from . import admin_hooks  # noqa: F401  (historic-case import pages, holiday-data panel)
from . import bulk_actions  # noqa: F401  (批量派单; bulk delete within scope)
from .admin_money import scorecard_urls
from .callback_desk import callback_desk_menu_item, callback_desk_urls
from .digest_views import add_digest_panel, digest_menu_item, digest_permissions, digest_urls
from .dashboard_views import dashboard_menu_item, dashboard_panel, dashboard_urls
from .intake_views import intake_menu_item, intake_urls
from .owner_pages import cases_panel
from .models import Case
from .queues import search_cases
from .viewsets import CaseDeskViewSetGroup

# The scoped list and chooser (estates.viewsets) search through estates.search.SEARCHERS.
SEARCHERS[Case] = search_cases

register_snippet(CaseDeskViewSetGroup)
hooks.register("register_admin_urls", scorecard_urls)
hooks.register("register_admin_urls", callback_desk_urls)  # 回访台
hooks.register("register_admin_menu_item", callback_desk_menu_item)
hooks.register("register_admin_urls", intake_urls)  # 来电登记
hooks.register("register_admin_menu_item", intake_menu_item)
hooks.register("register_admin_urls", dashboard_urls)  # 指标看板
hooks.register("register_admin_menu_item", dashboard_menu_item)
hooks.register("construct_homepage_panels", dashboard_panel)
hooks.register("register_admin_urls", digest_urls)  # 每日投诉简报
hooks.register("register_admin_menu_item", digest_menu_item)
hooks.register("construct_homepage_panels", add_digest_panel)
hooks.register("register_permissions", digest_permissions)
hooks.register("owner_home_panels", cases_panel)  # 我的家 (owners/views.py)
