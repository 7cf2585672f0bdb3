"""The case desk in the Wagtail admin: the 客服工单 menu (queues, the case list, categories,
calendars) and the case look-up the scoped list and chooser use."""

from wagtail.snippets.models import register_snippet

from estates.search import SEARCHERS

from .models import Case
from .queues import search_cases
from .viewsets import CaseDeskViewSetGroup

# The scoped list and chooser (estates.viewsets) search through estates.search.SEARCHERS.
SEARCHERS[Case] = search_cases

register_snippet(CaseDeskViewSetGroup)
