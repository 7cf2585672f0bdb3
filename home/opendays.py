"""Open-day registration services: the only code that changes an OpenDayRegistration.

Public views, admin actions and any future command call these functions; none of them sets a
status itself (ARCHITECTURE.md, "One way to change state"). Each function runs in one
transaction, locks the row it decides on, and leaves an audit row in Wagtail's log
(``wagtailcore_modellogentry``), which the registration's history view in the admin shows.

Refusals raise ``ValidationError`` with a Chinese message and a stable ``code`` (see ``Refusal``),
so a view can attach the message to the right form field.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from estates import scope
from estates.normalize import normalize_mobile

from .models import OpenDayPage, OpenDayRegistration, OpenDaySlot
from .models.opendays import new_registration_code

Status = OpenDayRegistration.Status

#: Audit actions written to Wagtail's log; labels are registered in home/wagtail_hooks.py.
ACTION_REGISTER = "home.openday.register"
ACTION_CANCEL = "home.openday.cancel"
ACTION_CHECK_IN = "home.openday.check_in"

#: The Django permission that lets a staff member check people in and cancel on their behalf.
CHANGE_PERMISSION = "home.change_opendayregistration"


class Refusal:
    """``ValidationError.code`` values raised by the services."""

    SLOT_FULL = "slot_full"
    NOT_ENOUGH_SEATS = "not_enough_seats"
    PARTY_TOO_LARGE = "party_too_large"
    PARTY_TOO_SMALL = "party_too_small"
    SLOT_STARTED = "slot_started"
    NOT_PUBLISHED = "not_published"
    DUPLICATE_MOBILE = "duplicate_mobile"
    REQUIRED = "required"
    NOT_FOUND = "not_found"
    ALREADY_CHECKED_IN = "already_checked_in"
    CANCELLED = "cancelled"
    TOO_EARLY = "too_early"


def slot_starts_at(slot):
    """The slot's start as an aware datetime in the site's zone (Asia/Shanghai)."""
    return timezone.make_aware(datetime.datetime.combine(slot.date, slot.start))


def has_started(slot, now=None):
    return slot_starts_at(slot) <= (now or timezone.now())


def _clean_text(value):
    return (value or "").strip()


def seats_taken(slot):
    """Seats held by registrations that are not cancelled. Inside ``register`` this runs after
    the slot row is locked, so it sees every registration committed before the lock."""
    total = (
        OpenDayRegistration.objects.filter(slot_id=slot.pk)
        .exclude(status=Status.CANCELLED)
        .aggregate(total=Sum("party_size"))["total"]
    )
    return total or 0


def register(slot, name, mobile, unit_or_contract, party_size, remark=""):
    """Register ``party_size`` people for ``slot`` and return the new registration.

    Raises ValidationError when the slot is full or has too few seats left, the party is larger
    than the slot allows, the slot has started, its page is not published, or this mobile
    already holds a registration for the slot.
    """
    name = _clean_text(name)
    unit_or_contract = _clean_text(unit_or_contract)
    remark = _clean_text(remark)
    mobile = normalize_mobile(mobile)  # raises ValidationError(code="invalid_mobile")
    if not name or not unit_or_contract:
        raise ValidationError(_("请填写姓名和房号（或合同号）。"), code=Refusal.REQUIRED)
    try:
        party_size = int(party_size)
    except (TypeError, ValueError):
        party_size = 0
    if party_size < 1:
        raise ValidationError(_("到场人数至少为 1 人。"), code=Refusal.PARTY_TOO_SMALL)

    with transaction.atomic():
        # Lock the slot row first: every registration for this slot queues here, so the seat
        # sum below cannot be overtaken by a concurrent one (PostgreSQL row lock; on SQLite the
        # IMMEDIATE transaction already serialises writers). ``of=("self",)`` keeps the lock
        # off the page row, which editors may be publishing.
        locked = (
            OpenDaySlot.objects.select_for_update(of=("self",))
            .select_related("page")
            .get(pk=slot.pk)
        )
        page = locked.page
        if not page.live or not OpenDayPage.objects.filter(pk=page.pk).live().public().exists():
            raise ValidationError(_("该活动未发布或已下线，暂不能报名。"), code=Refusal.NOT_PUBLISHED)
        if has_started(locked):
            raise ValidationError(_("该场次已开始或已结束，不能再报名。"), code=Refusal.SLOT_STARTED)
        if party_size > locked.max_party_size:
            raise ValidationError(
                _("本场次每份报名最多 %(max)s 人，请减少到场人数。") % {"max": locked.max_party_size},
                code=Refusal.PARTY_TOO_LARGE,
            )
        left = locked.capacity - seats_taken(locked)
        if left <= 0:
            raise ValidationError(_("很抱歉，该场次名额已满，请选择其他场次。"), code=Refusal.SLOT_FULL)
        if party_size > left:
            raise ValidationError(
                _("该场次仅剩 %(left)s 个名额，请减少到场人数或选择其他场次。") % {"left": left},
                code=Refusal.NOT_ENOUGH_SEATS,
            )
        if _holds_registration(locked, mobile):
            raise _duplicate_error()

        registration = OpenDayRegistration(
            slot=locked,
            name=name,
            mobile=mobile,
            unit_or_contract=unit_or_contract,
            party_size=party_size,
            remark=remark,
        )
        # Lengths and validators of the model fields (the form checks them first; this keeps
        # other callers honest). The unique constraint is left to the database below.
        registration.full_clean(exclude=["slot", "code"], validate_unique=False, validate_constraints=False)
        _insert_with_fresh_code(registration, locked, mobile)
        log(
            registration,
            ACTION_REGISTER,
            user=None,
            data={"actor": "owner", "party_size": party_size, "slot": locked.pk},
        )
    return registration


def _holds_registration(slot, mobile):
    return (
        OpenDayRegistration.objects.filter(slot_id=slot.pk, mobile=mobile)
        .exclude(status=Status.CANCELLED)
        .exists()
    )


def _duplicate_error():
    return ValidationError(
        _("该手机号已报名本场次，无需重复报名；如需更改，请先取消原报名。"), code=Refusal.DUPLICATE_MOBILE
    )


def _insert_with_fresh_code(registration, slot, mobile, attempts=5):
    """INSERT in a savepoint; on IntegrityError tell a second registration of the mobile (the
    partial unique constraint) from a code collision, which gets a new code and another try."""
    for _attempt in range(attempts):
        try:
            with transaction.atomic():
                registration.save(force_insert=True)
            return
        except IntegrityError:
            registration.pk = None
            if _holds_registration(slot, mobile):
                raise _duplicate_error()
            registration.code = new_registration_code()
    raise IntegrityError("could not allocate a unique registration code")


def _find_for_update(code, mobile):
    code = _clean_text(code).upper()
    return (
        OpenDayRegistration.objects.select_for_update(of=("self",))
        .select_related("slot", "slot__page", "slot__page__project")
        .filter(code=code, mobile=mobile)
        .first()
    )


def cancel(code, mobile, *, user=None, reason=""):
    """Cancel the registration with ``code`` when ``mobile`` matches it.

    Returns ``(registration, changed)``; ``changed`` is False when it was already cancelled (the
    caller says so; nothing is written). The row is never deleted: its seats are simply no
    longer counted. ``user`` is the staff member acting for the owner, None when the owner
    cancels on the portal.
    """
    try:
        mobile = normalize_mobile(mobile)
    except ValidationError:
        mobile = None
    with transaction.atomic():
        registration = _find_for_update(code, mobile) if mobile else None
        if registration is None:
            # One message for a wrong code and a wrong mobile: the page must not confirm either.
            raise ValidationError(_("报名码与手机号不匹配，请核对后重试。"), code=Refusal.NOT_FOUND)
        if user is not None:
            _check_staff(user, registration)
        if registration.status == Status.CANCELLED:
            return registration, False
        if registration.status == Status.CHECKED_IN:
            raise ValidationError(_("该报名已签到，不能取消。"), code=Refusal.ALREADY_CHECKED_IN)
        if user is None and has_started(registration.slot):
            hotline = registration.slot.page.project.hotline
            message = (
                _("活动已开始，不能在线取消；如有需要请致电客服 %(hotline)s。") % {"hotline": hotline}
                if hotline
                else _("活动已开始，不能在线取消；如有需要请联系客服。")
            )
            raise ValidationError(message, code=Refusal.SLOT_STARTED)
        registration.status = Status.CANCELLED
        registration.cancelled_at = timezone.now()
        registration.save(update_fields=["status", "cancelled_at"])
        log(
            registration,
            ACTION_CANCEL,
            user=user,
            data={
                "actor": "staff" if user is not None else "owner",
                "reason": _clean_text(reason) or (_("业主在门户取消") if user is None else ""),
                "party_size": registration.party_size,
            },
        )
    return registration, True


def _check_staff(user, registration):
    if not (user and user.is_authenticated and user.has_perm(CHANGE_PERMISSION)):
        raise PermissionDenied
    if not scope.in_scope(registration, user):
        raise PermissionDenied


def check_in(registration, user):
    """Record that the party of ``registration`` has arrived; ``user`` is the staff member.

    Refused for cancelled registrations, for one already checked in (the message gives the
    time) and before the day of the slot. Raises PermissionDenied when ``user`` may not check in
    registrations of this project.
    """
    with transaction.atomic():
        locked = (
            OpenDayRegistration.objects.select_for_update(of=("self",))
            .select_related("slot", "slot__page")
            .get(pk=registration.pk)
        )
        _check_staff(user, locked)
        if locked.status == Status.CANCELLED:
            raise ValidationError(_("该报名已取消，不能签到。"), code=Refusal.CANCELLED)
        if locked.status == Status.CHECKED_IN:
            raise ValidationError(
                _("该报名已于 %(time)s 签到。")
                % {"time": timezone.localtime(locked.checked_in_at).strftime("%Y-%m-%d %H:%M")},
                code=Refusal.ALREADY_CHECKED_IN,
            )
        if timezone.localdate() < locked.slot.date:
            raise ValidationError(
                _("活动当天（%(date)s）才能签到。") % {"date": locked.slot.date.strftime("%Y-%m-%d")},
                code=Refusal.TOO_EARLY,
            )
        locked.status = Status.CHECKED_IN
        locked.checked_in_at = timezone.now()
        locked.save(update_fields=["status", "checked_in_at"])
        log(locked, ACTION_CHECK_IN, user=user, data={"actor": "staff", "party_size": locked.party_size})
    registration.status = locked.status
    registration.checked_in_at = locked.checked_in_at
    return locked
