from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "search"
    label = "portal_search"  # keep clear of wagtail.search's label "wagtailsearch"
    verbose_name = _("站内搜索")

    def ready(self):
        from . import signals

        signals.connect()
