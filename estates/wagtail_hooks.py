from wagtail import hooks
from wagtail.snippets.models import register_snippet

from forms.models import RESOLVE_BUILDING_HOOK, RESOLVE_UNIT_HOOK

from . import links, links_views
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


@hooks.register("register_admin_urls")
def register_qr_urls():
    """/admin/estates/qr/…: QR codes of units and buildings (PNG, SVG, the building's PDF sheet)."""
    return links_views.admin_urls()


# A QR code's ``?unit=<token>`` / ``?building=<token>`` on the service forms (channel "qr").
hooks.register(RESOLVE_UNIT_HOOK, links.unit_for_token)
hooks.register(RESOLVE_BUILDING_HOOK, links.building_for_token)
