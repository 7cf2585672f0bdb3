"""Staff look-up in the interview list and chooser (registered in estates.search.SEARCHERS): by
topic words, the owner's name or mobile, or the unit label, as people say them."""

import re

from django.db.models import Q

from estates.normalize import clean_text
from estates.search import mobile_fragment


def search_interviews(queryset, query):
    text = clean_text(query)
    if not text:
        return queryset
    condition = (Q(topics__icontains=text) | Q(owner__name__startswith=text)
                 | Q(unit__label__istartswith=re.sub(r"\s+", "", text)))
    digits = mobile_fragment(text)
    if len(digits) >= 4 and digits.startswith("1"):
        condition |= Q(owner__mobile__startswith=digits)
    return queryset.filter(condition)
