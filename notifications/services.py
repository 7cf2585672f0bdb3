"""The verbs of the outbox (ARCHITECTURE.md decision 9). Every plugin sends through ``send``:

    from notifications import services as notifications

    notifications.send(
        f"case:{case.pk}:resolution:remind",        # unique: a repeated sweep sends nothing more
        [case.assignee, owner.mobile],              # staff users and/or raw mobiles / emails
        "generic",                                  # templates/notifications/generic.txt
        {"subject": "工单即将超时", "body": "…"},   # template context = SMS parameters
        channels=["admin", "email", "sms"],         # None: the defaults for each recipient
        urgent=False,                               # True: SMS ignores quiet hours
        url=case_admin_url,                         # the inbox links to it
    )

Each (key, recipient, channel) is written once, under a unique constraint; a second call with
the same key writes nothing and returns the rows already there. Admin-inbox messages are
delivered as they are written; email and SMS are delivered once the caller's transaction
commits (through the task backend NOTIFICATIONS["DELIVERY_TASK_BACKEND"]), and whatever is
still pending — retries, SMS held over quiet hours — by ``deliver_pending``, run every minute
by ``manage.py send_notifications``.
"""

import datetime
import logging
import zoneinfo
from collections import Counter
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from estates.normalize import normalize_mobile

from . import conf
from .channels import Unreachable
from .models import Channel, Message, Status

logger = logging.getLogger(__name__)

#: How long a claimed message stays out of the queue while it is being sent. A process that
#: dies mid-send leaves it pending; it is tried again after this.
CLAIM_LEASE = datetime.timedelta(minutes=5)
#: The inbox's unread count stops at this (the menu shows "99+").
UNREAD_CAP = 100
UNREAD_CACHE_SECONDS = 300
MAX_KEY_LENGTH = Message._meta.get_field("key").max_length


# --- Writing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """One recipient: ``recipient`` is its identity in the unique key."""

    recipient: str
    kind: str  # "user", "email" or "mobile"
    user: AbstractBaseUser | None = None
    address: str = ""
    error: str = ""  # why a raw address is unusable: "invalid_email" or "invalid_mobile"


def send(key, recipients, template, context=None, *, channels=None, urgent=False, url=""):
    """Write one outbox message per recipient and channel under ``key``; return the Message
    rows (new or already there), in recipient then channel order.

    ``recipients``: staff users (``accounts.User``) and/or raw mobile numbers or email
    addresses (owners and contractors are not users); blanks are ignored. ``template`` names
    ``templates/notifications/<template>.txt`` (first line the subject, the rest the body),
    rendered with ``context`` in the site's language; for SMS the template name maps to the
    provider's template code (NOTIFICATIONS["SMS_TEMPLATES"]) and ``context`` becomes its
    parameters, so keep it flat. ``channels``: names from NOTIFICATIONS["CHANNELS"]; None gives
    staff users NOTIFICATIONS["DEFAULT_CHANNELS"] and raw addresses the channel of their kind.
    A recipient with no address for a channel gets a ``skipped`` row saying why. ``urgent``
    lets SMS through quiet hours. ``url`` (site-relative or absolute) is linked from the inbox
    and given to the template as an absolute ``url``.
    """
    return send_many([Request(key, recipients, template, context, channels, urgent, url)])[0]


@dataclass(frozen=True)
class Request:
    """One ``send()`` call, for ``send_many``."""

    key: str
    recipients: object
    template: str
    context: dict | None = None
    channels: list | None = None
    urgent: bool = False
    url: str = ""


def send_many(requests):
    """``send()`` for many keys at once in a fixed number of queries (a sweep over hundreds of
    clocks): returns, per request, its Message rows."""
    plans = []
    for request in requests:
        if not request.key or len(request.key) > MAX_KEY_LENGTH:
            raise ValueError(f"A notification key needs 1 to {MAX_KEY_LENGTH} characters: {request.key!r}")
        recipients = request.recipients
        if isinstance(recipients, (str, AbstractBaseUser)):
            recipients = [recipients]
        plans.append(_plan(recipients, request.channels))
    keys = {request.key for request, plan in zip(requests, plans) if plan}
    if not keys:
        return [[] for _ in requests]
    with transaction.atomic():
        rows = _rows(keys)
        now = timezone.now()
        new, wanted = [], set()
        for request, plan in zip(requests, plans):
            missing = [(t, c) for t, c in plan if (request.key, t.recipient, c.name) not in rows
                       and (request.key, t.recipient, c.name) not in wanted]
            if missing:
                context = dict(request.context or {})
                new += _build(request.key, missing, request.template, context, request.urgent, request.url, now)
                wanted.update((request.key, t.recipient, c.name) for t, c in missing)
        if new:
            # INSERT … ON CONFLICT DO NOTHING: a concurrent send() of the same key waits for the
            # other's row and then writes nothing; the unique constraint decides.
            Message.objects.bulk_create(new, ignore_conflicts=True)
            rows = _rows(keys)
            fresh = [m for triple, m in rows.items() if triple in wanted]
            due = [m.pk for m in fresh if m.status == Status.PENDING and m.not_before <= now]
            if due:
                transaction.on_commit(partial(_schedule_delivery, due), robust=True)
            arrived = [m.user_id for m in fresh if m.channel == Channel.ADMIN and m.status == Status.SENT]
            if arrived:
                transaction.on_commit(partial(_count_arrivals, arrived), robust=True)
        return [[rows[(request.key, t.recipient, c.name)] for t, c in plan] for request, plan in zip(requests, plans)]


def _rows(keys):
    return {(m.key, m.recipient, m.channel): m for m in Message.objects.filter(key__in=keys)}


def _plan(recipients, channel_names):
    """[(target, channel)] without duplicates, in the order given."""
    plan, seen = [], set()
    for recipient in recipients:
        target = _target(recipient)
        if target is None:
            continue
        if target.kind == "user":
            names = conf.get("DEFAULT_CHANNELS") if channel_names is None else channel_names
            chosen = [conf.channel(name) for name in names]
        else:
            names = conf.get("CHANNELS") if channel_names is None else channel_names
            chosen = [c for c in map(conf.channel, names) if c.address_kind == target.kind]
        for channel in chosen:
            if (target.recipient, channel.name) not in seen:
                seen.add((target.recipient, channel.name))
                plan.append((target, channel))
    return plan


def _target(recipient):
    if recipient is None:
        return None
    if isinstance(recipient, AbstractBaseUser):
        return _Target(f"user:{recipient.pk}", "user", user=recipient)
    text = str(recipient).strip()
    if not text:
        return None
    if "@" in text:
        try:
            validate_email(text)
        except ValidationError:
            return _Target(text, "email", error="invalid_email")
        return _Target(text, "email", address=text)
    try:
        mobile = normalize_mobile(text)
    except ValidationError:
        return _Target(text, "mobile", error="invalid_mobile")
    return _Target(mobile, "mobile", address=mobile)


def _build(key, pairs, template, context, urgent, url, now):
    """Unsaved Message rows for ``pairs``, each rendered for its recipient."""
    params = {name: "" if value is None else str(value) for name, value in context.items()}
    rendered = {}
    messages = []
    for target, channel in pairs:
        message = Message(
            key=key,
            channel=channel.name,
            recipient=target.recipient,
            user=target.user,
            template=template,
            params=params,
            url=url,
            urgent=urgent,
            created_at=now,
            not_before=now,
        )
        if target.recipient not in rendered:
            rendered[target.recipient] = render(template, {**context, "recipient": target.user, "url": absolute_url(url)})
        message.subject, message.body = rendered[target.recipient]
        try:
            message.address = _address(target, channel)
        except Unreachable as reason:
            message.status = Status.SKIPPED
            message.last_error = str(reason)
        else:
            if channel.delivered_on_write:
                message.status, message.sent_at, message.attempts = Status.SENT, now, 1
            elif channel.respects_quiet_hours and not urgent:
                message.not_before = quiet_until(now) or now
        messages.append(message)
    return messages


def _address(target, channel):
    with translation.override(settings.LANGUAGE_CODE):
        if target.error == "invalid_email":
            raise Unreachable(_("电子邮箱地址无效。"))
        if target.error == "invalid_mobile":
            raise Unreachable(_("手机号无效。"))
        if target.user is None:
            return target.address
        if not target.user.is_active:
            raise Unreachable(_("该员工账号已停用。"))
        return channel.address_for_user(target.user)


def render(template, context):
    """(subject, body) of ``templates/notifications/<template>.txt`` in the site's language:
    the first line is the subject, the rest the body. Plain text, so nothing is HTML-escaped."""
    compiled = get_template(f"notifications/{template}.txt").template
    with translation.override(settings.LANGUAGE_CODE):
        text = compiled.render(Context(context, autoescape=False))
    text = text.replace("\r\n", "\n").strip()
    subject, _newline, body = text.partition("\n")
    max_subject = Message._meta.get_field("subject").max_length
    return subject.strip()[:max_subject], body.strip()


def absolute_url(url):
    if not url or url.startswith(("http://", "https://")):
        return url
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/" + url.lstrip("/")


def quiet_until(moment):
    """The end of the quiet hours ``moment`` falls in (aware), or None outside them."""
    window = conf.quiet_hours()
    if window is None:
        return None
    start, end = window
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    local = timezone.localtime(moment, zone)
    now = local.time()
    inside = start <= now < end if start < end else (now >= start or now < end)
    if not inside:
        return None
    day = local.date()
    if start > end and now >= start:  # the window crosses midnight: it ends tomorrow
        day += datetime.timedelta(days=1)
    return datetime.datetime.combine(day, end, tzinfo=zone)


def _schedule_delivery(message_ids):
    from .tasks import deliver_messages

    deliver_messages.using(backend=conf.get("DELIVERY_TASK_BACKEND")).enqueue(message_ids)


# --- Delivering ----------------------------------------------------------------------------


def deliver_pending(limit=500):
    """Deliver up to ``limit`` pending messages that are due, oldest first; counts per outcome."""
    ids = list(
        Message.objects.filter(status=Status.PENDING, not_before__lte=timezone.now())
        .order_by("not_before", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return deliver(ids)


def deliver(message_ids):
    """Deliver the given messages that are pending and due. Returns counts per outcome: sent,
    retry (failed, tried again later), failed (out of attempts), deferred (quiet hours), and
    busy (taken by another worker)."""
    outcomes = Counter()
    if message_ids:
        messages = Message.objects.filter(
            pk__in=message_ids, status=Status.PENDING, not_before__lte=timezone.now()
        ).order_by("not_before", "pk")
        for message in messages:
            outcomes[_deliver_one(message)] += 1
    return dict(outcomes)


def _deliver_one(message):
    now = timezone.now()
    version = Message.objects.filter(pk=message.pk, status=Status.PENDING, attempts=message.attempts)
    try:
        channel = conf.channel(message.channel)
    except Exception as error:  # a channel removed from settings: nothing will ever send it
        version.update(status=Status.FAILED, last_error=_error_text(error))
        return "failed"
    if channel.respects_quiet_hours and not message.urgent:
        until = quiet_until(now)
        if until is not None:
            version.update(not_before=until)
            return "deferred"
    # Claim it: only one worker moves attempts from n to n + 1.
    if not version.filter(not_before__lte=now).update(attempts=F("attempts") + 1, not_before=now + CLAIM_LEASE):
        return "busy"
    message.attempts += 1
    done = Message.objects.filter(pk=message.pk)
    try:
        channel.deliver(message)
    except Exception as error:
        logger.warning("Notification %s (%s) failed on attempt %s: %s", message.pk, message.key, message.attempts, error)
        if message.attempts >= conf.get("MAX_ATTEMPTS"):
            done.update(status=Status.FAILED, last_error=_error_text(error))
            return "failed"
        delay = datetime.timedelta(seconds=conf.get("RETRY_DELAY") * 2 ** (message.attempts - 1))
        done.update(last_error=_error_text(error), not_before=now + delay)
        return "retry"
    done.update(status=Status.SENT, sent_at=timezone.now(), last_error="")
    return "sent"


def _error_text(error):
    return f"{type(error).__name__}: {error}"[:2000]


def retry(message_ids):
    """Put failed messages back in the queue with a fresh set of attempts; returns how many."""
    return Message.objects.filter(pk__in=message_ids, status=Status.FAILED).update(
        status=Status.PENDING, attempts=0, not_before=timezone.now()
    )


# --- The admin inbox -----------------------------------------------------------------------


def inbox(user):
    """The staff user's in-admin messages, newest first."""
    return Message.objects.filter(user=user, channel=Channel.ADMIN).order_by("-created_at", "-pk")


def unread_count(user):
    """How many of the user's inbox messages are unread, counted up to UNREAD_CAP.

    Every admin page shows it, so it is cached per user (the shared cache in production):
    primed at sign-in, incremented when a message arrives, dropped when messages are read. A
    cache entry lives UNREAD_CACHE_SECONDS, which bounds how stale a per-process cache can be.
    """
    if not getattr(user, "is_authenticated", False):
        return 0
    key = _unread_cache_key(user.pk)
    count = cache.get(key)
    if count is None:
        unread = Message.objects.filter(user=user, channel=Channel.ADMIN, read_at__isnull=True)
        count = unread.values("pk")[:UNREAD_CAP].count()
        cache.set(key, count, UNREAD_CACHE_SECONDS)
    return min(count, UNREAD_CAP)


def _unread_cache_key(user_id):
    return f"notifications:unread:{user_id}"


def _count_arrivals(user_ids):
    for user_id in user_ids:
        try:
            cache.incr(_unread_cache_key(user_id))
        except ValueError:  # not cached: the next page counts afresh
            pass


def mark_read(user, message_ids):
    """Mark the user's own unread inbox messages among ``message_ids`` read; returns how many."""
    if not message_ids:
        return 0
    marked = Message.objects.filter(
        user=user, channel=Channel.ADMIN, read_at__isnull=True, pk__in=message_ids
    ).update(read_at=timezone.now())
    if marked:
        cache.delete(_unread_cache_key(user.pk))
    return marked
