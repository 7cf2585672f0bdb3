"""我的家 lists the signed-in owner's open-day registrations from today on (home/owner_panel.py)."""

import datetime

from django.utils import timezone

from home.models import OpenDayRegistration
from tests.factories import OwnerFactory, OwnershipFactory, ProjectFactory
from tests.owners.test_views import signed_in_client
from tests.portal import add_open_day, build_portal


def test_the_owner_sees_their_coming_open_days_and_nobody_elses(db):
    owner = OwnerFactory(name="林晓", mobile="13900139000")
    OwnershipFactory(owner=owner)
    portal = build_portal()
    today = timezone.localdate()
    page = add_open_day(portal, ProjectFactory(), title="交付样板房开放日",
                        slots=((today + datetime.timedelta(days=3), 20, 3), (today - datetime.timedelta(days=3), 20, 3)))
    coming, past = page.slots.order_by("-date")
    mine = OpenDayRegistration.objects.create(slot=coming, name="林晓", mobile=owner.mobile,
                                              unit_or_contract="3-2-1502", party_size=2)
    OpenDayRegistration.objects.create(slot=past, name="林晓", mobile=owner.mobile,
                                       unit_or_contract="3-2-1502", party_size=1)
    theirs = OpenDayRegistration.objects.create(slot=coming, name="王", mobile="13700137000",
                                                unit_or_contract="5-1-101", party_size=1)
    body = signed_in_client(owner).get("/owner/").content.decode()
    assert "我的开放日报名" in body and "交付样板房开放日" in body and mine.code in body
    assert theirs.code not in body
    assert body.count("交付样板房开放日") == 1  # the past one is not listed
