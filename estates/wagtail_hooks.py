from wagtail import hooks
from wagtail.snippets.models import register_snippet

from .import_views import admin_urls as import_admin_urls
from .viewsets import EstatesViewSetGroup, StaffProfileViewSet

register_snippet(EstatesViewSetGroup)


@hooks.register("register_admin_viewset")
def register_staff_profile_viewset():
    return StaffProfileViewSet("staff_profiles")


@hooks.register("register_admin_urls")
def register_import_urls():
    """/admin/estates/import/: the Excel/CSV import of units, owners and contractors."""
    return import_admin_urls()
