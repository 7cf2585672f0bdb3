"""The daily complaint digest (每日投诉简报, DOMAIN.md step 7): every morning yesterday's
complaints go to all staff in the admin inbox and by email; each reader's first opening is
recorded; once the chase delay has passed, the staff who have not read it are listed to their
supervisors (to the 客服经理 group for staff without one).

- ``publish(day, now)`` freezes the day's complaints (every project) into a ``ComplaintDigest``,
  writes a ``DigestReceipt`` per recipient and queues one message per recipient through the
  notifications outbox under ``digest:<day>:user:<pk>``. The unique day makes it idempotent and
  safe under two concurrent sweeps (the loser's ``IntegrityError`` is swallowed).
- Each reader sees only the rows of their projects (``estates.scope``): the snapshot holds every
  project, and rows are filtered per reader when shown — in their email at publishing, on the
  digest page when opened. A reader whose scope grows later sees the wider digest.
- ``chase(now)`` sends each supervisor one message (``digest:<day>:chase:<supervisor pk>``)
  listing their unread staff, once per digest (``chased_at`` under a row lock, and the keys).
- ``due_work(now)``, run by ``manage.py sweep_cases`` every minute after the clocks, publishes
  once the configured time of day has passed, and chases what is due.

The rules (time, delay, recipients, email) are ``DigestSettings``, edited in the admin.
"""

import datetime as dt
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from estates import scope
from estates.models import StaffProfile

from .models import Case, ComplaintDigest, ComplaintGrade, DigestReceipt, DigestSettings, Kind, Status

logger = logging.getLogger(__name__)

#: The group that reads every digest, sees everyone's reading and hears of unread staff who
#: have no supervisor (plugins/cases/migrations/0005_roles.py).
MANAGER_GROUP = "客服经理"
#: The owner's words are shortened to this many characters, an ellipsis added.
WORDS_LENGTH = 60
#: Rows an email lists; the rest are on the digest page.
EMAIL_ROWS = 100
#: Unread names a chase message lists (a manager of a large company gets the count too).
CHASE_NAMES = 300


# --- Days and words -------------------------------------------------------------------------------


def local_day(moment):
    """The Asia/Shanghai (TIME_ZONE) date of ``moment``."""
    return timezone.localtime(moment).date()


def day_bounds(day):
    """[start, end) of ``day`` in the site's time zone, as aware datetimes."""
    zone = timezone.get_default_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)


def shorten(text, length=WORDS_LENGTH):
    """``text`` on one line, cut to ``length`` characters with an ellipsis."""
    text = re.sub(r"\s+", " ", text or "").strip()
    return text if len(text) <= length else text[:length].rstrip() + "…"


# --- Who receives it and who may read it ----------------------------------------------------------


def recipients(config=None):
    """The active staff users (with a StaffProfile) the digest goes to: all of them, or those
    in the settings' groups when some are chosen."""
    config = config or DigestSettings.load()
    users = get_user_model().objects.filter(is_active=True, staff_profile__isnull=False)
    group_ids = list(config.groups.values_list("pk", flat=True))
    if group_ids:
        member = get_user_model().groups.through.objects.filter(user_id=OuterRef("pk"), group_id__in=group_ids)
        users = users.filter(Exists(member))
    return users.order_by("pk")


def is_manager(user):
    """A superuser or a member of 客服经理: reads every digest and sees everyone's reading.
    Cached on the user object (one query a request)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_digest_manager", None)
    if cached is None:
        cached = user._digest_manager = user.groups.filter(name=MANAGER_GROUP).exists()
    return cached


def may_read(user, digest):
    """Recipients (a receipt) and managers read a digest; nobody else."""
    return is_manager(user) or DigestReceipt.objects.filter(digest=digest, user=user).exists()


def visible_rows(digest, user):
    """The digest's rows of ``user``'s projects (estates.scope)."""
    return rows_for(digest.rows, scope.project_ids_for(user))


def rows_for(rows, project_ids):
    return list(rows) if project_ids is None else [row for row in rows if row["project"] in project_ids]


def visible_total(digest, user):
    """How many of the digest's rows ``user`` sees, from ``counts`` (the rows are not read)."""
    project_ids = scope.project_ids_for(user)
    if project_ids is None:
        return digest.total
    return sum(n for pk, n in (digest.counts.get("projects") or {}).items() if int(pk) in project_ids)


def summarize(rows):
    """Counts per project and per grade of ``rows``: ([(project name, n)], [(grade label, n)])."""
    projects, grades = {}, {}
    for row in rows:
        projects[row["project_name"]] = projects.get(row["project_name"], 0) + 1
        label = row["grade_label"] or _("未定级")
        grades[label] = grades.get(label, 0) + 1
    return sorted(projects.items(), key=lambda item: (-item[1], item[0])), list(grades.items())


def digest_url(digest):
    """The digest's admin page (site-relative; the outbox makes it absolute from
    WAGTAILADMIN_BASE_URL)."""
    return reverse("cases_digest", args=(digest.pk,))


# --- Publishing -----------------------------------------------------------------------------------


def snapshot(day):
    """(rows, counts) of the complaints registered on ``day`` (Asia/Shanghai), all projects,
    in registration order; labels in the site's language."""
    start, end = day_bounds(day)
    cases = (
        Case.objects.filter(kind=Kind.COMPLAINT, registered_at__gte=start, registered_at__lt=end)
        .order_by("registered_at", "pk")
        .values_list("pk", "number", "project_id", "project__name", "category__name", "complaint_grade", "status",
                     "description", "registered_at")
    )
    rows, projects, grades = [], {}, {}
    with translation.override(settings.LANGUAGE_CODE):
        grade_labels = {value: str(label) for value, label in ComplaintGrade.choices}
        status_labels = {value: str(label) for value, label in Status.choices}
        for pk, number, project_id, project_name, category, grade, status, description, registered_at in cases:
            rows.append({
                "case": pk, "number": number, "project": project_id, "project_name": project_name,
                "category": category or "", "grade": grade, "grade_label": grade_labels.get(grade, ""),
                "status": status, "status_label": status_labels.get(status, status),
                "words": shorten(description),
                "registered_at": timezone.localtime(registered_at).isoformat(),
            })
            projects[str(project_id)] = projects.get(str(project_id), 0) + 1
            grades[grade] = grades.get(grade, 0) + 1
    return rows, {"projects": projects, "grades": grades}


def publish(day=None, now=None, config=None):
    """Publish the digest of ``day`` (default: the day before ``now``, Asia/Shanghai). Returns
    the new ComplaintDigest, or None when that day's digest already exists (published earlier
    or by a concurrent sweep): a second call does nothing."""
    now = now or timezone.now()
    day = day or local_day(now) - dt.timedelta(days=1)
    if ComplaintDigest.objects.filter(day=day).exists():
        return None
    config = config or DigestSettings.load()
    try:
        with transaction.atomic():
            rows, counts = snapshot(day)
            # The unique day decides between two sweeps: the second INSERT fails (PostgreSQL
            # waits for the first to commit; SQLite's IMMEDIATE transactions run one at a time).
            digest = ComplaintDigest.objects.create(
                day=day, published_at=now, chase_at=now + config.chase_delay, total=len(rows), rows=rows,
                counts=counts,
            )
            users = _with_scope(list(recipients(config).select_related("staff_profile")))
            DigestReceipt.objects.bulk_create([DigestReceipt(digest=digest, user=user) for user in users])
            digest.recipient_count = len(users)
            _notify_readers(digest, users, config)
    except IntegrityError:
        return None
    return digest


def _with_scope(users):
    """Prime estates.scope's per-user cache from two queries, so the per-reader filtering of
    hundreds of recipients asks the database nothing more."""
    profiles = {user.pk: user.staff_profile for user in users}
    limited = [profile.pk for profile in profiles.values() if not profile.all_projects]
    served = {}
    through = StaffProfile.projects.through.objects.filter(staffprofile_id__in=limited)
    for profile_id, project_id in through.values_list("staffprofile_id", "project_id"):
        served.setdefault(profile_id, set()).add(project_id)
    for user in users:
        profile = profiles[user.pk]
        user._scope_profile = profile
        if not (user.is_superuser or profile.all_projects):
            user._scope_project_ids = frozenset(served.get(profile.pk, ()))
    return users


def _channels(config):
    return ["admin", "email"] if config.send_email else ["admin"]


def _notify_readers(digest, users, config):
    from notifications.services import Request, send_many

    url = digest_url(digest)
    texts = {}  # one text per distinct scope
    requests = []
    for user in users:
        project_ids = scope.project_ids_for(user)
        if project_ids not in texts:
            texts[project_ids] = reader_text(digest, rows_for(digest.rows, project_ids))
        subject, body = texts[project_ids]
        requests.append(Request(f"digest:{digest.day.isoformat()}:user:{user.pk}", [user], "generic",
                                {"subject": subject, "body": body}, channels=_channels(config), url=url))
    if requests:
        send_many(requests)


def reader_text(digest, rows):
    """(subject, body) of one reader's digest message: their rows, in Simplified Chinese."""
    with translation.override(settings.LANGUAGE_CODE):
        day = digest.day.isoformat()
        subject = _("每日投诉简报 %(day)s（共 %(count)s 件）") % {"day": day, "count": len(rows)}
        if not rows:
            return subject, _("昨日无投诉（%(day)s）。") % {"day": day}
        projects, grades = summarize(rows)
        lines = [
            _("%(day)s 共登记投诉 %(count)s 件。") % {"day": day, "count": len(rows)},
            _("按项目：%(items)s") % {"items": "、".join(f"{name} {n} 件" for name, n in projects)},
            _("按等级：%(items)s") % {"items": "、".join(f"{label} {n} 件" for label, n in grades)},
            "",
        ]
        for n, row in enumerate(rows[:EMAIL_ROWS], 1):
            fields = [row["number"], row["project_name"], row["category"] or "—", row["grade_label"] or _("未定级"),
                      row["status_label"]]
            lines.append(f"{n}. " + "｜".join(fields))
            lines.append(f"   {row['words']}")
        if len(rows) > EMAIL_ROWS:
            lines.append(_("……另有 %(more)s 件，请在后台查看完整简报。") % {"more": len(rows) - EMAIL_ROWS})
        return subject, "\n".join(lines)


# --- Chasing the unread ---------------------------------------------------------------------------


def chase(now=None):
    """For every digest whose chase time has passed and that was not chased yet: one message to
    each supervisor listing their staff who have not opened it (staff without an active
    supervisor go to the 客服经理 group). Each digest is chased once. Returns how many people
    were sent a list."""
    now = now or timezone.now()
    sent = 0
    due = ComplaintDigest.objects.filter(chased_at__isnull=True, chase_at__lte=now)
    for pk in list(due.order_by("chase_at", "pk").values_list("pk", flat=True)):
        with transaction.atomic():
            locked = ComplaintDigest.objects.filter(pk=pk, chased_at__isnull=True).defer("rows")
            if connection.features.has_select_for_update_skip_locked:
                locked = locked.select_for_update(skip_locked=True)
            digest = locked.first()
            if digest is None:  # chased by a concurrent sweep
                continue
            sent += _chase_one(digest, now)
            ComplaintDigest.objects.filter(pk=pk).update(chased_at=now)
    return sent


def unread_by_chaser(digest):
    """{chaser: [unread staff]}: each unread recipient under their active supervisor, or under
    every active 客服经理 when they have none."""
    unread = list(
        DigestReceipt.objects.filter(digest=digest, first_opened_at__isnull=True, user__is_active=True)
        .select_related("user__staff_profile__supervisor").order_by("user__username", "user__pk")
    )
    if not unread:
        return {}
    managers = None
    chasers, lists = {}, {}
    for receipt in unread:
        user = receipt.user
        profile = getattr(user, "staff_profile", None)
        supervisor = profile.supervisor if profile is not None else None
        if supervisor is not None and supervisor.is_active and supervisor.pk != user.pk:
            heads = [supervisor]
        else:
            if managers is None:
                managers = list(get_user_model().objects.filter(is_active=True, groups__name=MANAGER_GROUP)
                                .distinct().order_by("pk"))
            heads = [manager for manager in managers if manager.pk != user.pk]
        for head in heads:
            chasers.setdefault(head.pk, head)
            lists.setdefault(head.pk, []).append(user)
    return {chasers[pk]: staff for pk, staff in lists.items()}


def _chase_one(digest, now):
    from notifications.services import Request, send_many

    by_chaser = unread_by_chaser(digest)
    if not by_chaser:
        return 0
    config = DigestSettings.load()
    url = digest_url(digest)
    requests = []
    with translation.override(settings.LANGUAGE_CODE):
        for chaser, staff in by_chaser.items():
            subject, body = chase_text(digest, staff, now)
            requests.append(Request(f"digest:{digest.day.isoformat()}:chase:{chaser.pk}", [chaser], "generic",
                                    {"subject": subject, "body": body}, channels=_channels(config), url=url))
    send_many(requests)
    return len(requests)


def person(user):
    name = user.get_full_name().strip()
    if not name:
        return user.get_username()
    return _("%(name)s（%(username)s）") % {"name": name, "username": user.get_username()}


def chase_text(digest, staff, now):
    day = digest.day.isoformat()
    subject = _("每日投诉简报 %(day)s：%(count)s 人尚未阅读") % {"day": day, "count": len(staff)}
    lines = [_("以下员工截至 %(now)s 仍未阅读 %(day)s 的每日投诉简报（%(published)s 发布）：") % {
        "now": f"{timezone.localtime(now):%Y-%m-%d %H:%M}", "day": day,
        "published": f"{timezone.localtime(digest.published_at):%Y-%m-%d %H:%M}"}]
    lines += [person(user) for user in staff[:CHASE_NAMES]]
    if len(staff) > CHASE_NAMES:
        lines.append(_("……共 %(count)s 人，完整名单见简报页面。") % {"count": len(staff)})
    return subject, "\n".join(lines)


# --- Reading --------------------------------------------------------------------------------------


def record_opening(digest, user, now=None):
    """Record ``user``'s first opening of ``digest``; a later opening changes nothing. Returns
    True when this was the first."""
    return bool(DigestReceipt.objects.filter(digest=digest, user=user, first_opened_at__isnull=True)
                .update(first_opened_at=now or timezone.now()))


# --- The sweep ------------------------------------------------------------------------------------


@dataclass
class DigestWork:
    published: dt.date | None = None
    recipients: int = 0
    chased: int = 0

    def __bool__(self):
        return self.published is not None or bool(self.chased)

    def summary(self):
        parts = []
        if self.published is not None:
            parts.append(_("已发布 %(day)s 的简报（%(count)s 人）") % {
                "day": self.published.isoformat(), "count": self.recipients})
        if self.chased:
            parts.append(_("未读名单已发给 %(count)s 位上级") % {"count": self.chased})
        return _("每日投诉简报：%(parts)s。") % {"parts": "；".join(parts)}

    def as_dict(self):
        return {"published": self.published.isoformat() if self.published else None,
                "recipients": self.recipients, "chased": self.chased}


def due_work(now=None):
    """The digest's part of the minute sweep: publish yesterday's digest once the configured
    time of day has passed (if enabled and not published yet), then chase what is due. A second
    run at the same moment does nothing."""
    now = now or timezone.now()
    result = DigestWork()
    config = DigestSettings.load()
    local = timezone.localtime(now)
    if config.enabled and local.time() >= config.publish_time:
        digest = publish(local.date() - dt.timedelta(days=1), now, config=config)
        if digest is not None:
            result.published = digest.day
            result.recipients = digest.recipient_count
    result.chased = chase(now)
    return result


# --- Demo -----------------------------------------------------------------------------------------


def seed_digest(stdout=None):
    """The demo's digest: yesterday's complaints of the demo data, published now, with some of
    its receipts already opened. Idempotent (nothing happens when it exists)."""
    now = timezone.now()
    digest = publish(now=now)
    if digest is None:
        return None
    receipts = list(digest.receipts.order_by("pk").values_list("pk", flat=True))
    opened = receipts[: (len(receipts) + 1) // 2]
    DigestReceipt.objects.filter(pk__in=opened).update(first_opened_at=now)
    if stdout is not None:
        stdout.write(f"每日投诉简报：{digest.day}，{digest.total} 件投诉，{len(receipts)} 位接收人（{len(opened)} 人已读）")
    return digest
