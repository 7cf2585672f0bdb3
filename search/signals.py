"""Keep the search index in step with what is published.

Wagtail's search app indexes every ``index.Indexed`` model (all pages, the FAQ snippet) on
``post_save`` through the ``default`` task backend, which is immediate (ARCHITECTURE decision 12);
deleting removes the entry on ``post_delete``. That covers FAQs and pages saved in code, in the
admin, and by revisions being published.

One gap remains: a page's child rows (a bulletin's progress per building, ``ParentalKey``) are
written *after* the page row, so the ``post_save`` indexing sees the old ones. Publishing (by an
editor, a workflow approval or the scheduler) therefore indexes the object once more when it is
complete. Whether a page or FAQ is shown at all is decided by its own ``live`` column and view
restrictions at query time, never by the index, so unpublishing needs nothing here.
"""

from wagtail.search import index
from wagtail.signals import published


def reindex_published(sender, instance, **kwargs):
    if index.class_is_indexed(type(instance)):
        index.insert_or_update_object(instance)


def connect():
    published.connect(reindex_published, dispatch_uid="portal_search_reindex_published")
