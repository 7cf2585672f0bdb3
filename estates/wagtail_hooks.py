from wagtail import hooks
from wagtail.snippets.models import register_snippet

from .viewsets import EstatesViewSetGroup, StaffProfileViewSet

register_snippet(EstatesViewSetGroup)


@hooks.register("register_admin_viewset")
def register_staff_profile_viewset():
    return StaffProfileViewSet("staff_profiles")
