"""我的家's open-day panel (owners/views.py, hook "owner_home_panels"): the signed-in owner's
registrations for open days from today on, registered under the number they signed in with."""

from django.template.loader import render_to_string
from django.utils import timezone

from .models import OpenDayRegistration


def open_days_panel(request, owner):
    registrations = list(
        OpenDayRegistration.objects.filter(mobile=owner.mobile, slot__date__gte=timezone.localdate())
        .select_related("slot__page").order_by("slot__date", "slot__start", "pk")[:20]
    )
    return render_to_string("home/owner_open_days.html", {"registrations": registrations}, request=request)
