"""Standard replies (统一说辞) offered where staff write on a case: the note, the contact
record and the answer to the owner. Only live replies — those that passed the 客服+法务审核
review — are offered."""

from django.db.models import Q

from .models import Category, StandardReply

#: The verbs of the case page whose form gets the standard-reply picker
#: (templates/cases/admin/_standard_replies.html).
REPLY_VERBS = ("note", "contact", "answer")


def replies_for(case):
    """The live replies for ``case``: general ones, those of its kind, and those of its
    category or that category's parent; in their sort order. One query."""
    category = Q(category__isnull=True)
    if case.category_id:
        # The parent by subquery: the case's category need not be loaded.
        parent = Category.objects.filter(pk=case.category_id).values("parent_id")
        category |= Q(category_id=case.category_id) | Q(category_id__in=parent)
    return list(
        StandardReply.objects.filter(Q(kind="") | Q(kind=case.kind), category, live=True)
        .only("pk", "title", "text", "sort_order")
        .order_by("sort_order", "pk")
    )
