"""Django-side steps of the case desk's benchmarks (bench/bench_cases.py), run as a subprocess
in the benchmark database's environment (DJANGO_SETTINGS_MODULE=bench.cases_settings,
DATABASE_URL, REDIS_URL, …). Each command prints one JSON line.

    cases_tasks.py seed                       the large demo's cases (plugins.cases.demo_large),
                                              if seed_demo did not add them; timed
    cases_tasks.py counts                     cases, open cases, events, clocks
    cases_tasks.py setup EVENTS ASSIGN        the benchmark's two users, ASSIGN open cases each,
                                              EVENTS notes on one case; the URLs to measure
    cases_tasks.py admin REQUESTS SETUP_JSON  the case list and case page in process (test client)
    cases_tasks.py manager REQUESTS SETUP_JSON
                                              the roll-ups (rebuild timed, unless built), then the
                                              指标看板, its drill-down lists and the 来电登记
                                              look-up in process, for both users
    cases_tasks.py sweep DUE                  clocks.sweep at the moment DUE clocks are due
    cases_tasks.py registered MARK            the cases the HTTP benchmark registered

Set-up writes what a benchmark needs that the demo has no reason to hold: two staff users
(a superuser and a project-limited 客服经理), some open cases assigned to them (a queryset
update: the demo's staff are not users) and one case with a long timeline (through
services.add_note, the way staff write notes).

``manager`` picks its own URLs from the data (so it can be re-run on a kept database): the
dashboard's periods exactly as the page reads them (``dashboard.period_from`` with the user), the
drill-down links exactly as the page builds them (``dashboard.drill``), the contractor with most
repairs and the category with most cases of each period from the roll-ups, and for the look-up a
registered owner's mobile, the most frequent caller's number, the commonest owner name and a unit
label of the benchmark project.
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
from django.core.signals import got_request_exception  # noqa: E402
from django.db.models import Count, Q, Sum  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from estates.models import Owner, Project, StaffProfile, Unit  # noqa: E402
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


# --- manager: the 指标看板, its drill-downs and the 来电登记 look-up ------------------------------

#: (name, figure slug, dimension) of the measured drill-downs; the holder and category ones take
#: the key with most repairs / cases of the period from the roll-ups.
DRILLS = (
    ("cases_in", "", None),
    ("clock_late_contact", "clock_late:contact", None),
    ("clock_late_answer", "clock_late:answer", None),
    ("not_first_time", "not_first_time", None),
    ("repeat", "repeat", None),
    ("low_score", "low_score", None),
    ("closed", "closed", None),
    ("holder", "", "contractor"),
    ("category", "", "category"),
)

#: Figures the dashboard counts per clock round or per call-back, while the list counts cases:
#: the list may hold fewer (never more).
PER_EVENT_FIGURES = ()  # low scores are counted per case, like the list


class _Errors:
    """The last exception a view raised (the client answers 500 instead of raising it)."""

    def __init__(self):
        self.last = None
        got_request_exception.connect(self, dispatch_uid="bench-cases-manager")

    def __call__(self, sender, request=None, **kwargs):
        error = sys.exc_info()[1]
        self.last = f"{type(error).__name__}: {str(error)[:300]}" if error else "exception"


def _measure(client, errors, url, requests):
    """``_timed``, never raising: a 4xx/500 comes back as its status (and the view's exception)."""
    errors.last = None
    try:
        measured = _timed(client, url, requests)
    except Exception as error:  # noqa: BLE001 - reported as a failed entry
        return {"error": f"{type(error).__name__}: {str(error)[:300]}"}
    if errors.last:
        measured["error"] = errors.last
    return measured


def _months():
    """(the last whole month, the first of the 12 months ending with this one, this month)."""
    from plugins.cases import dashboard

    this_month = dashboard.current_month()
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    first = this_month
    for _i in range(11):
        first = (first - timedelta(days=1)).replace(day=1)
    return last_month, first, this_month


def _top_key(period, dimension, counter):
    """The non-empty key of ``dimension`` with the largest ``counter`` in ``period`` (roll-ups)."""
    from plugins.cases.models import CaseRollup

    rows = CaseRollup.objects.filter(month__gte=period.start, month__lt=period.end, dimension=dimension).exclude(key="")
    if period.project_ids is not None:
        rows = rows.filter(project_id__in=period.project_ids)
    top = rows.order_by().values("key").annotate(n=Sum(counter)).order_by("-n", "key").first()
    return (top["key"], top["n"]) if top else (None, 0)


def _rollup_rows(period):
    """How many roll-up rows the dashboard adds up for ``period``."""
    from plugins.cases.models import CaseRollup

    rows = CaseRollup.objects.filter(month__gte=period.start, month__lt=period.end)
    if period.project_ids is not None:
        rows = rows.filter(project_id__in=period.project_ids)
    return rows.count()


def _dashboard_number(board, figure, dimension, key):
    """The number the dashboard shows for a drill-down (what its list should count)."""
    figures = board.by.get(dimension, {}).get(key) if dimension else board.total
    if figures is None:
        return 0
    if not figure:
        return figures.cases_in
    if figure.startswith("clock_late:"):
        return figures.clock(figure.split(":", 1)[1])["late"]
    return {"closed": figures.closed, "not_first_time": figures.repairs_counted - figures.first_time,
            "repeat": figures.repeats, "low_score": figures.low_scores}.get(figure)


def _list_count(user, url):
    """How many cases the case list at ``url`` holds for ``user``: its own filter set over the
    user's cases (what the list pages through), so a parameter the list ignores shows."""
    from django.test import RequestFactory

    from estates import scope
    from plugins.cases.viewsets import CaseFilterSet

    request = RequestFactory().get(url, secure=True)
    request.user = user
    try:
        filters = CaseFilterSet(request.GET, queryset=scope.restrict(Case.objects.all(), user), request=request)
        if not filters.is_valid():
            return {"rows_error": "筛选无效：" + json.dumps(filters.errors, ensure_ascii=False)[:200]}
        ignored = sorted(set(request.GET) - set(filters.form.fields))
        return {"rows": filters.qs.count(), **({"ignored": ignored} if ignored else {})}
    except Exception as error:  # noqa: BLE001
        return {"rows_error": f"{type(error).__name__}: {str(error)[:200]}"}


def _rollups():
    """Rebuild the roll-ups (timed) unless they exist; then the refresh of what is marked."""
    from plugins.cases import rollups
    from plugins.cases.models import CaseRollup, RollupMark, RollupState

    out = {}
    if RollupState.objects.filter(rebuilt_at__isnull=False).exists():
        out["rebuilt"] = False
    else:
        started = time.perf_counter()
        out["months"] = rollups.rebuild()
        out.update(rebuilt=True, seconds=round(time.perf_counter() - started, 2))
    marks = RollupMark.objects.count()
    started = time.perf_counter()
    cohorts = rollups.refresh()
    out.update(marks=marks, refresh_cohorts=cohorts, refresh_seconds=round(time.perf_counter() - started, 3),
               rows=CaseRollup.objects.count(), cases=Case.objects.count())
    return out


def _intake_queries(project):
    """{name: text typed} for the look-up: a registered owner's mobile as people say it, the most
    frequent caller's number, the commonest owner name and a unit label, all of the project."""
    from plugins.cases import intake

    # The cases the look-up shows (open, or registered within its RECENT_DAYS): callers with a
    # history on the screen, not only long-closed cases.
    since = timezone.now() - timedelta(days=intake.RECENT_DAYS)
    in_project = Case.objects.filter(project=project).filter(Q(status__in=OPEN_STATUSES) | Q(registered_at__gte=since))
    current = {"ownerships__end__isnull": True, "ownerships__unit__project": project}
    queries = {}
    # The owner of the project's unit with most such cases.
    busiest = (in_project.filter(unit__isnull=False, unit__ownerships__end__isnull=True,
                                 unit__ownerships__owner__mobile__regex=r"^1[0-9]{10}$")
               .values("unit_id").annotate(n=Count("id")).order_by("-n").first())
    owner = (Owner.objects.filter(ownerships__unit_id=busiest["unit_id"], ownerships__end__isnull=True)
             .exclude(mobile="").order_by("pk").first() if busiest else None)
    owner = owner or Owner.objects.filter(**current).exclude(mobile="").order_by("pk").first()
    if owner is not None:
        m = owner.mobile
        queries["owner_mobile"] = f"+86 {m[:3]}-{m[3:7]}-{m[7:]}"
    caller = None
    for cases in (in_project, Case.objects.filter(project=project)):  # else the most frequent ever
        caller = (cases.exclude(reporter_mobile="").values("reporter_mobile").annotate(n=Count("id"))
                  .filter(n__gt=1).order_by("-n", "reporter_mobile").values_list("reporter_mobile", flat=True).first())
        if caller:
            break
    if caller:
        queries["caller_mobile"] = f"{caller[:3]} {caller[3:7]} {caller[7:]}"
    name = (Owner.objects.filter(**current).values("name").annotate(n=Count("id", distinct=True))
            .order_by("-n", "name").values_list("name", flat=True).first())
    if name:
        queries["owner_name"] = name
    unit = (Unit.objects.filter(pk=busiest["unit_id"]).first() if busiest else None) or \
        Unit.objects.filter(project=project).order_by("pk").first()
    if unit is not None:
        queries["unit_label"] = unit.label
    return queries


def manager(requests, setup_json):
    from plugins.cases import dashboard, intake

    requests = int(requests)
    data = json.loads(Path(setup_json).read_text(encoding="utf-8"))
    User = get_user_model()
    project = Project.objects.get(pk=data["project"])
    out = {"rollups": {}, "periods": {}, "dashboard": [], "drill": [], "intake": [], "baseline": {},
           "users": {}, "problems": []}
    try:
        out["rollups"] = _rollups()
    except Exception as error:  # noqa: BLE001 - the pages are measured all the same
        out["rollups"] = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
    last_month, first, this_month = _months()
    wanted = {
        "project_month": {"from": f"{last_month:%Y-%m}", "to": f"{last_month:%Y-%m}", "project": str(project.pk)},
        "all_year": {"from": f"{first:%Y-%m}", "to": f"{this_month:%Y-%m}"},
    }
    try:
        lookups = _intake_queries(project)
    except Exception as error:  # noqa: BLE001
        lookups = {}
        out["problems"].append(f"来电登记查询词：{type(error).__name__}: {str(error)[:200]}")
    errors = _Errors()
    dashboard_url = reverse("cases_dashboard")
    intake_url = reverse("cases_intake")
    for username in data["users"]:
        user = User.objects.get(username=username)
        client = Client(raise_request_exception=False)
        client.force_login(user)
        out["users"][username] = {"view_figures": user.has_perm("cases.view_figures"),
                                  "add_case": user.has_perm("cases.add_case")}
        client.get(data["hello"], secure=True)  # the session's first admin request
        for period_name, params in wanted.items():
            url = f"{dashboard_url}?{urlencode(params)}"
            try:
                period = dashboard.period_from(params, user)
                board = dashboard.board(period)
            except Exception as error:  # noqa: BLE001
                out["dashboard"].append({"user": username, "name": period_name, "url": url,
                                         "error": f"{type(error).__name__}: {str(error)[:300]}"})
                continue
            out["periods"][f"{period_name}.{username}"] = {
                "label": period.label, "from": f"{period.start}", "to": f"{period.end}",
                "projects": None if period.project_ids is None else len(period.project_ids)}
            out["dashboard"].append({"user": username, "name": period_name, "url": url,
                                     "cases_in": board.total.cases_in,
                                     "rollup_rows": _rollup_rows(period),
                                     **_measure(client, errors, url, requests)})
            for name, figure, dimension in DRILLS:
                key = None
                if dimension:
                    key, _n = _top_key(period, dimension, "repairs" if dimension == "contractor" else "cases_in")
                    if key is None:
                        out["problems"].append(f"{period_name}：没有可下钻的{dimension}")
                        continue
                url = dashboard.drill(period, figure, dimension=dimension, key=key)
                out["drill"].append({"user": username, "name": f"{period_name}.{name}", "url": url,
                                     "expected": _dashboard_number(board, figure, dimension, key),
                                     # the dashboard counts clock rounds / call-backs: fewer cases
                                     "at_most": figure in PER_EVENT_FIGURES or figure.startswith("clock_late:"),
                                     **_list_count(user, url), **_measure(client, errors, url, requests)})
        for name, text in lookups.items():
            url = f"{intake_url}?{urlencode({'q': text})}"
            found = {}
            try:
                result = intake.lookup(user, text)
                found = {"kind": result.kind, "owners": len(result.owners), "units": len(result.units),
                         "cases": len(result.cases), "lookup_error": result.error}
            except Exception as error:  # noqa: BLE001
                found = {"lookup_error": f"{type(error).__name__}: {str(error)[:200]}"}
            out["intake"].append({"user": username, "name": name, "q": text, "url": url, **found,
                                  **_measure(client, errors, url, requests)})
        if username == data["users"][0]:
            out["baseline"]["hello_ms"] = _timed(client, data["hello"], requests)["median_ms"]
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


COMMANDS = {"seed": seed, "counts": counts, "setup": setup, "admin": admin, "manager": manager, "sweep": sweep,
            "registered": registered}

if __name__ == "__main__":
    command, *args = sys.argv[1:]
    print(json.dumps(COMMANDS[command](*args), ensure_ascii=False, default=str))
