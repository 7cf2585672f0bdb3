"""Django-side steps of the case desk's benchmarks (bench/bench_cases.py), run as a subprocess
in the benchmark database's environment (DJANGO_SETTINGS_MODULE=bench.cases_settings,
DATABASE_URL, REDIS_URL, …). Each command prints one JSON line.

    cases_tasks.py seed                       the large demo's cases (plugins.cases.demo_large),
                                              if seed_demo did not add them; timed
    cases_tasks.py counts                     cases, open cases, events, clocks
    cases_tasks.py setup EVENTS ASSIGN        the benchmark's two users, ASSIGN open cases each,
                                              EVENTS notes on one case; the URLs to measure
    cases_tasks.py admin REQUESTS SETUP_JSON  the case list and case page in process (test client)
    cases_tasks.py sweep DUE                  clocks.sweep at the moment DUE clocks are due
    cases_tasks.py registered MARK            the cases the HTTP benchmark registered

Set-up writes what a benchmark needs that the demo has no reason to hold: two staff users
(a superuser and a project-limited 客服经理), some open cases assigned to them (a queryset
update: the demo's staff are not users) and one case with a long timeline (through
services.add_note, the way staff write notes).
"""

import json
import secrets
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group, Permission  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from estates.models import Project, StaffProfile  # noqa: E402
from plugins.cases import clocks, services  # noqa: E402
from plugins.cases.models import Case, CaseClock, CaseEvent, Category, Status  # noqa: E402
from plugins.cases.models.choices import OPEN_STATUSES  # noqa: E402
from plugins.cases.queues import QUEUES  # noqa: E402

ADMIN, STAFF = "bench-admin", "bench-staff"
STAFF_GROUP = "客服经理"  # plugins/cases/migrations/0005_roles.py
SEARCH_TEXT = "漏水"
SEARCH_CATEGORY = "daily-waterproofing"
PER_PAGE = (20, 100)


def _ms(seconds):
    return round(seconds * 1000, 2)


# --- seed / counts ----------------------------------------------------------------------------


def seed():
    from plugins.cases.demo_large import already_seeded, seed_large

    if already_seeded():
        return {"seeded": False, "seconds": 0}
    started = time.perf_counter()
    summary = seed_large()
    return {"seeded": True, "seconds": round(time.perf_counter() - started, 2), "created": summary.created,
            "events": summary.events, "clocks": summary.clocks, "search_words": summary.search_words}


def counts():
    running = CaseClock.objects.filter(stopped_at__isnull=True)
    return {
        "cases": Case.objects.count(),
        "open": Case.objects.filter(status__in=OPEN_STATUSES).count(),
        "events": CaseEvent.objects.count(),
        "clocks": CaseClock.objects.count(),
        "running_clocks": running.count(),
        "pending_clocks": running.filter(sweep_at__isnull=False).count(),
        "search_words": Case.objects.exclude(search_words="").exists(),
    }


# --- setup ------------------------------------------------------------------------------------


def _user(username, password, **flags):
    User = get_user_model()
    user, _created = User.objects.get_or_create(username=username, defaults={"is_staff": True, **flags})
    for name, value in {"is_staff": True, "is_active": True, **flags}.items():
        setattr(user, name, value)
    user.set_password(password)
    user.save()
    return user


def _staff_group():
    group = Group.objects.filter(name=STAFF_GROUP).first()
    if group is None:  # the role was renamed or removed: the same permissions under our name
        group, _created = Group.objects.get_or_create(name="bench-cases")
        group.permissions.set(Permission.objects.filter(content_type__app_label="cases") | Permission.objects.filter(
            content_type__app_label="wagtailadmin", codename="access_admin"))
    return group


def setup(events, assign):
    events, assign = int(events), int(assign)
    password = secrets.token_urlsafe(16)
    admin = _user(ADMIN, password, is_superuser=True)
    staff = _user(STAFF, password, is_superuser=False)
    staff.groups.add(_staff_group())
    # The staff member serves the project with the most cases (one of the small demo's two).
    top = (Case.objects.filter(project__code__in=["HZ-YYLT", "CD-JJYF"]).values("project_id")
           .annotate(n=Count("id")).order_by("-n").first())
    project = Project.objects.get(pk=top["project_id"]) if top else Project.objects.order_by("pk").first()
    profile, _created = StaffProfile.objects.get_or_create(user=staff)
    profile.all_projects = False
    profile.save()
    profile.projects.set([project])

    in_project = Case.objects.filter(project=project)
    open_ids = list(in_project.filter(status__in=OPEN_STATUSES, assignee__isnull=True)
                    .order_by("-registered_at", "-pk").values_list("pk", flat=True)[: 2 * assign])
    Case.objects.filter(pk__in=open_ids[:assign]).update(assignee=staff)
    Case.objects.filter(pk__in=open_ids[assign:]).update(assignee=admin)

    # One case with a long timeline, written as staff write notes.
    long_case = (in_project.filter(status=Status.IN_PROGRESS, kind="repair").order_by("-registered_at").first()
                 or in_project.order_by("-registered_at").first())
    actor = services.Actor.staff(staff)
    already = long_case.events.count()
    started = time.perf_counter()
    for n in range(max(0, events - already)):
        services.add_note(long_case, actor, f"第 {n + 1} 次跟进：已电话联系业主，说明维修进度和下一步安排。",
                          visible_to_owner=n % 3 == 0)
    notes_seconds = time.perf_counter() - started

    contractor = (in_project.exclude(contractor__isnull=True).values("contractor_id")
                  .annotate(n=Count("id")).order_by("-n").first())
    mobile = (in_project.values("reporter_mobile").annotate(n=Count("id")).filter(n__gt=1)
              .order_by("-n").values_list("reporter_mobile", flat=True).first())
    category = Category.objects.filter(code=SEARCH_CATEGORY).first() or Category.objects.order_by("pk").first()
    today = timezone.localdate()
    filters = {
        "project": {"project": project.pk},
        "status": {"status": Status.IN_PROGRESS},
        "kind": {"kind": "complaint"},
        "category": {"category": category.pk},
        "contractor": {"contractor": contractor["contractor_id"] if contractor else ""},
        "date": {"registered_at_from": (today - timedelta(days=30)).isoformat(),
                 "registered_at_to": today.isoformat()},
        "search_number": {"q": long_case.number},
        "search_phone": {"q": mobile or long_case.reporter_mobile},
        "search_text": {"q": SEARCH_TEXT},
    }
    lists = {"all": {}}
    lists.update({f"queue_{slug}": {"queue": slug} for slug in QUEUES})
    lists.update(filters)
    base = reverse("wagtailsnippets_cases_case:list")
    urls = {}
    for name, params in lists.items():
        for per_page in PER_PAGE:
            query = dict(params)
            if per_page != PER_PAGE[0]:
                query["per_page"] = str(per_page)
            urls[f"{name}.{per_page}"] = f"{base}?{urlencode(query)}" if query else base
    units = list(Case.objects.filter(project=project, unit__isnull=False).order_by("-pk")
                 .values_list("unit_id", flat=True).distinct()[:400])
    return {
        "password": password, "users": [ADMIN, STAFF], "project": project.pk, "project_name": project.name,
        "lists": urls,
        "case_page": reverse("wagtailsnippets_cases_case:inspect", args=(long_case.pk,)),
        "case": long_case.pk, "case_events": long_case.events.count(), "notes_seconds": round(notes_seconds, 2),
        "register": reverse("wagtailsnippets_cases_case:add"),
        "register_category": (Category.objects.filter(code="daily-plumbing").values_list("pk", flat=True).first()
                              or category.pk),
        "units": sorted(set(units)),
        "hello": reverse("bench_cases_hello"),
    }


# --- admin ----------------------------------------------------------------------------------------


def _timed(client, url, requests):
    """Median, min and max milliseconds of ``requests`` GETs after one warm-up; the status;
    the queries of one more request."""
    response = client.get(url, secure=True)
    status = response.status_code
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url, secure=True)
        times.append(time.perf_counter() - started)
        status = max(status, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, secure=True)
    return {
        "median_ms": _ms(statistics.median(times)), "min_ms": _ms(min(times)), "max_ms": _ms(max(times)),
        "status": status if status != 200 else response.status_code, "queries": len(queries),
        "bytes": len(response.content),
    }


def admin(requests, setup_json):
    requests = int(requests)
    data = json.loads(Path(setup_json).read_text(encoding="utf-8"))
    User = get_user_model()
    out = {"lists": [], "case_page": [], "baseline": {}}
    for username in data["users"]:
        client = Client()
        client.force_login(User.objects.get(username=username))
        for name, url in data["lists"].items():
            try:
                measured = _timed(client, url, requests)
            except Exception as error:  # a 500 is a finding, not the end of the run
                measured = {"error": f"{type(error).__name__}: {str(error)[:200]}"}
            out["lists"].append({"user": username, "name": name, "url": url, **measured})
        try:
            measured = _timed(client, data["case_page"], requests)
        except Exception as error:
            measured = {"error": f"{type(error).__name__}: {str(error)[:200]}"}
        out["case_page"].append({"user": username, "url": data["case_page"], **measured})
        if username == data["users"][0]:
            out["baseline"]["hello_ms"] = _timed(client, data["hello"], requests)["median_ms"]
    out["baseline"].update(_db_baselines(data["project"], requests))
    return out


def _db_baselines(project_id, requests):
    """SELECT 1, and a count served by an index (one project's cases in one status)."""

    def median(function):
        function()
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            function()
            times.append(time.perf_counter() - started)
        return _ms(statistics.median(times))

    def select_one():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    counted = {}

    def count():
        counted["n"] = Case.objects.filter(project_id=project_id, status=Status.IN_PROGRESS).count()

    return {"select1_ms": median(select_one), "count_ms": median(count), "count_rows": counted.get("n")}


# --- sweep ------------------------------------------------------------------------------------------


def sweep(due):
    due = int(due)
    pending = CaseClock.objects.filter(stopped_at__isnull=True, sweep_at__isnull=False).order_by("sweep_at", "pk")
    moments = list(pending.values_list("sweep_at", flat=True)[due - 1:due])
    if not moments:
        moments = list(pending.reverse().values_list("sweep_at", flat=True)[:1])
    if not moments:
        return {"error": "no pending clock"}
    now = moments[0]
    started = time.perf_counter()
    waiting = CaseClock.objects.filter(stopped_at__isnull=True, sweep_at__lte=now).count()
    count_seconds = time.perf_counter() - started
    result = clocks.sweep(now=now)
    again = clocks.sweep(now=now)
    return {
        "now": now.isoformat(), "due": waiting, "count_ms": _ms(count_seconds),
        "seconds": round(result.seconds, 3), **result.as_dict(),
        "again_seconds": round(again.seconds, 3), "again": again.as_dict(),
        "running_clocks": CaseClock.objects.filter(stopped_at__isnull=True).count(),
        "cases_total": Case.objects.count(),
    }


# --- registered ---------------------------------------------------------------------------------


def registered(mark):
    cases = Case.objects.filter(reporter_name__startswith=mark)
    numbers = list(cases.values_list("number", flat=True))
    return {
        "cases": len(numbers),
        "unique_numbers": len(set(numbers)),
        "with_register_event": cases.filter(events__verb="register").distinct().count(),
        "with_history": Case.history.filter(reporter_name__startswith=mark, history_type="+").count(),
    }


COMMANDS = {"seed": seed, "counts": counts, "setup": setup, "admin": admin, "sweep": sweep,
            "registered": registered}

if __name__ == "__main__":
    command, *args = sys.argv[1:]
    print(json.dumps(COMMANDS[command](*args), ensure_ascii=False, default=str))
