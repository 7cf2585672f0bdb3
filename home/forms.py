"""Admin forms of the portal's pages."""

from django.utils.translation import gettext as _
from wagtail.admin.forms import WagtailAdminPageForm


class OpenDayPageForm(WagtailAdminPageForm):
    """A slot that owners have registered for cannot be removed from the page: its
    registrations would be lost (the database protects them, which would be a 500)."""

    def is_valid(self):
        valid = super().is_valid()
        slots = self.formsets.get("slots")
        if slots is None or not hasattr(slots, "cleaned_data"):
            return valid
        from .models import OpenDayRegistration

        valid = self._check_capacity(slots) and valid
        removed = [form.instance.pk for form in slots.deleted_forms if form.instance.pk]
        if removed:
            kept = set(
                OpenDayRegistration.objects.filter(slot_id__in=removed).values_list("slot_id", flat=True)
            )
            for form in slots.deleted_forms:
                if form.instance.pk in kept:
                    form.add_error(None, _("该场次已有业主报名，不能删除；如需停止报名，请把名额改为已报名人数。"))
                    valid = False
        return valid

    def _check_capacity(self, slots):
        from .models import OpenDaySlot

        kept = [f for f in slots.forms if f.instance.pk and f not in slots.deleted_forms and f.is_valid()]
        taken = {
            slot.pk: slot.seats_taken
            for slot in OpenDaySlot.with_seats(OpenDaySlot.objects.filter(pk__in=[f.instance.pk for f in kept]))
        }
        ok = True
        for form in kept:
            capacity = form.cleaned_data.get("capacity")
            if capacity is not None and capacity < taken.get(form.instance.pk, 0):
                form.add_error(
                    "capacity",
                    _("已有 %(taken)d 人报名，名额不能少于已报名人数。") % {"taken": taken[form.instance.pk]},
                )
                ok = False
        return ok
