"""Editors cannot remove a slot owners registered for, nor shrink it below the seats taken."""

import datetime

import pytest
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from home.models import OpenDayPage
from home.opendays import register
from tests.factories import ProjectFactory
from tests.portal import add_open_day, build_portal


@pytest.fixture
def open_day(db):
    portal = build_portal()
    page = add_open_day(portal, ProjectFactory(), slots=((datetime.date(2099, 5, 1), 10, 3), (datetime.date(2099, 5, 2), 10, 3)))
    page.save_revision().publish()
    return OpenDayPage.objects.get(pk=page.pk)


def edit_form(page, user, slot_rows):
    form_class = OpenDayPage.get_edit_handler().get_form_class()
    data = nested_form_data({
        "title": page.title, "slug": page.slug, "project": page.project_id, "kind": page.kind,
        "intro": rich_text(""), "place": page.place, "what_to_bring": page.what_to_bring,
        "slots": inline_formset(slot_rows, initial=len(page.slots.all())),
    })
    return form_class(data, instance=page, for_user=user)


def slot_row(slot, **changes):
    row = {"id": slot.pk, "date": slot.date.isoformat(), "start": "09:30", "end": "11:30",
           "capacity": slot.capacity, "max_party_size": slot.max_party_size, "place": "", "ORDER": slot.sort_order}
    row.update(changes)
    return row


def test_removing_a_slot_with_registrations_is_refused(open_day, admin_user):
    first, second = open_day.slots.order_by("date")
    register(first, name="李四", mobile="13800138001", unit_or_contract="3-2-1502", party_size=2, remark="")
    form = edit_form(open_day, admin_user, [slot_row(first, DELETE=True), slot_row(second)])
    assert not form.is_valid()
    empty = edit_form(open_day, admin_user, [slot_row(first), slot_row(second, DELETE=True)])
    assert empty.is_valid(), empty.errors


def test_capacity_cannot_drop_below_the_seats_taken(open_day, admin_user):
    first, second = open_day.slots.order_by("date")
    register(first, name="李四", mobile="13800138001", unit_or_contract="3-2-1502", party_size=3, remark="")
    assert not edit_form(open_day, admin_user, [slot_row(first, capacity=2), slot_row(second)]).is_valid()
    assert edit_form(open_day, admin_user, [slot_row(first, capacity=3), slot_row(second)]).is_valid()
