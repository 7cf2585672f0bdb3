"""Django-side steps of the owner and contractor page benchmarks (bench/bench_owners.py), run as a
subprocess in the benchmark database's environment (DJANGO_SETTINGS_MODULE=bench.cases_settings,
DATABASE_URL, REDIS_URL, …). Each command prints one JSON line.

    owners_tasks.py seed CASES                 plugins.cases.demo_large's cases over the small
                                               demo registry (seed_demo must have run); timed
    owners_tasks.py setup EVENTS PHOTOS HTTP INPROC
                                               the two cases to read (one with EVENTS owner-visible
                                               events and PHOTOS photos, one just dispatched), the
                                               owner who signs in to read them, and HTTP + INPROC
                                               owners of their own to request sign-in codes for
    owners_tasks.py measure REQUESTS SETUP_JSON
                                               the owner's case page, the contractor's page and a
                                               sign-in code request in process (test client)
    owners_tasks.py codes SETUP_JSON           SignInCode and SmsRecord rows of the HTTP owners'
                                               numbers

Set-up writes what the demo has no reason to hold: two cases on a demo unit that already has
the most cases (so the owner's lookup has company), registered and dispatched to a contractor
through services.py as staff would, the long one with a realistic timeline (the contractor's
contact and arrival, owner-visible notes, photos, some internal notes the owner must not see);
and owners with mobiles of their own (``BENCH_MOBILE_PREFIX``) for the sign-in code requests,
one number per request, so the per-number limits (1 a minute, 5 an hour) are never what is
measured.
"""

import io
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()

import cases_tasks  # noqa: E402  (bench/ is the script's directory)

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from PIL import Image  # noqa: E402

from estates.models import Contractor, Owner, Ownership, Unit  # noqa: E402
from notifications.models import SmsRecord  # noqa: E402
from owners.models import SignInCode  # noqa: E402
from plugins.cases import services, worklinks  # noqa: E402
from plugins.cases.models import Case, CaseAttachment, CaseEvent, Category, WorkLink  # noqa: E402

#: The benchmark's owners' numbers: 154 (no carrier, like the demo's) + 9999 + 4 digits.
BENCH_MOBILE_PREFIX = "1549999"
SIGN_IN, CODE = "/owner/sign-in/", "/owner/sign-in/code/"
NOTE_MARK = "压测进展"
INTERNAL_MARK = "压测内部备注"
REPORTER = "压测业主"
DESK = "客服中心（压测）"
#: The busiest "ordinary" unit is chosen for the measured cases (see _busy_unit).
MAX_UNIT_CASES = 60


def _ms(seconds):
    return round(seconds * 1000, 2)


# --- seed -------------------------------------------------------------------------------------


def seed(cases):
    from plugins.cases.demo_large import already_seeded, seed_large

    if already_seeded():
        return {"seeded": False, "seconds": 0}
    started = time.perf_counter()
    summary = seed_large(count=int(cases))
    return {"seeded": True, "seconds": round(time.perf_counter() - started, 2), "created": summary.created,
            "events": summary.events}


# --- setup ------------------------------------------------------------------------------------


def _photo(n):
    image = Image.new("RGB", (800, 600), (120 + n * 17 % 100, 90, 60 + n * 29 % 150))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return SimpleUploadedFile(f"现场照片{n + 1}.jpg", buffer.getvalue(), "image/jpeg")


def _busy_unit():
    """A demo unit with a current owner and the most cases, up to MAX_UNIT_CASES (the generator
    piles hundreds of cases on the last units handed over: not a home anyone lives in)."""
    owned = Ownership.objects.filter(end__isnull=True).values("unit_id")
    top = (Case.objects.filter(unit_id__in=owned).values("unit_id").annotate(n=Count("id"))
           .filter(n__lte=MAX_UNIT_CASES).order_by("-n", "unit_id").first())
    if top is None:
        return Unit.objects.filter(pk__in=owned).order_by("pk").first(), 0
    return Unit.objects.select_related("project", "building").get(pk=top["unit_id"]), top["n"]


def _register(unit, contractor, category, description, source):
    desk = services.Actor.system(DESK)
    case = services.register(desk, kind="repair", channel="hotline", project=unit.project, unit=unit,
                             category=category, reporter_name=REPORTER, reporter_mobile="15499990000",
                             description=description, source=source)
    return services.dispatch(case, desk, contractor=contractor)


def _owner_visible(case):
    return CaseEvent.objects.filter(case=case, visible_to_owner=True).count()


def setup(events, photos, http, inproc):
    events, photos, http, inproc = int(events), int(photos), int(http), int(inproc)
    unit, unit_cases = _busy_unit()
    owner = Ownership.objects.filter(unit=unit, end__isnull=True).select_related("owner").order_by("pk").first().owner
    contractor = (Contractor.objects.filter(projects=unit.project, active=True).order_by("pk").first())
    if contractor is None:
        raise RuntimeError(f"no contractor serves {unit.project}")
    category = Category.objects.filter(code="daily-waterproofing").first()

    small = _register(unit, contractor, category, "压测：厨房水槽下方柜体潮湿，怀疑下水管接口渗漏。", "bench-owners:small")
    large = _register(unit, contractor, category,
                      "压测：主卫天花板有水渍，楼上卫生间可能渗漏，墙角已发霉，请安排师傅上门查看。", "bench-owners:large")
    fixer = services.Actor.contractor(contractor.name)
    desk = services.Actor.system(DESK)
    services.record_contact(large, fixer, reached=True, note="维修单位已与业主联系，约定明天上午上门。",
                            visible_to_owner=True)
    services.on_site(large, fixer, note="师傅已到场，正在检查楼上卫生间防水层。")
    for n in range(0, photos, 2):  # photos two at a time, as a phone sends them
        services.attach(large, fixer, [_photo(k) for k in range(n, min(n + 2, photos))],
                        purpose=CaseAttachment.Purpose.BEFORE, visible_to_owner=True)
    internal = 0
    n = 0
    while _owner_visible(large) < events:
        n += 1
        services.add_note(large, desk, f"【{NOTE_MARK} {n}】已与楼上业主沟通，闭水试验安排在周六上午，"
                                       "请您届时在家，如有变化客服会提前电话通知。", visible_to_owner=True)
        if n % 4 == 0:  # the desk's own notes, which the owner must not see
            internal += 1
            services.add_note(large, desk, f"{INTERNAL_MARK} {internal}：费用由施工方承担，注意回访。")

    # Owners of their own for the sign-in code requests: one number per request.
    units = list(Unit.objects.order_by("pk").values_list("pk", flat=True)[:2000])
    taken = set(Owner.objects.filter(mobile__startswith=BENCH_MOBILE_PREFIX).values_list("mobile", flat=True))
    wanted = [f"{BENCH_MOBILE_PREFIX}{n:04d}" for n in range(1, http + inproc + 1)]
    if len(wanted) > 9999:
        raise ValueError("too many sign-in requests for the benchmark's number range")
    new = [Owner(name=f"压测业主{n:04d}", mobile=mobile) for n, mobile in enumerate(wanted, 1) if mobile not in taken]
    Owner.objects.bulk_create(new, batch_size=500)
    ids = dict(Owner.objects.filter(mobile__in=wanted).values_list("mobile", "pk"))
    Ownership.objects.bulk_create([
        Ownership(owner_id=ids[mobile], unit_id=units[n % len(units)]) for n, mobile in enumerate(wanted)
        if mobile not in taken
    ], batch_size=500)

    link_large = WorkLink.objects.get(case=large, revoked_at__isnull=True)
    link_small = WorkLink.objects.get(case=small, revoked_at__isnull=True)
    return {
        "owner_mobile": owner.mobile,
        "unit": unit.label, "unit_cases": unit_cases + 2,
        "owner_cases": Case.objects.filter(unit__in=Ownership.objects.filter(
            owner__mobile=owner.mobile, end__isnull=True).values("unit_id")).count(),
        "cases": {
            "large": {"number": large.number, "path": reverse("cases:owner_case", args=[large.number]),
                      "work": worklinks.path_for(link_large), "visible": _owner_visible(large),
                      "events": CaseEvent.objects.filter(case=large).count(),
                      "photos": CaseAttachment.objects.filter(case=large, visible_to_owner=True).count(),
                      "notes": n, "internal": internal},
            "small": {"number": small.number, "path": reverse("cases:owner_case", args=[small.number]),
                      "work": worklinks.path_for(link_small), "visible": _owner_visible(small),
                      "events": CaseEvent.objects.filter(case=small).count(), "photos": 0, "notes": 0,
                      "internal": 0},
        },
        "http_mobiles": wanted[:http],
        "inproc_mobiles": wanted[http:],
        "mobile_prefix": BENCH_MOBILE_PREFIX,
        "sign_in": SIGN_IN,
        "hello": reverse("bench_cases_hello"),
        "totals": {"cases": Case.objects.count(), "events": CaseEvent.objects.count(),
                   "owners": Owner.objects.count(), "units": Unit.objects.count()},
    }


# --- measure ------------------------------------------------------------------------------------


def _timed(client, url, requests):
    """bench_cases' in-process timing (median, min and max of ``requests`` GETs after a warm-up,
    the status, the queries of one more) plus the body of a last request, for the content checks."""
    result = cases_tasks._timed(client, url, requests)
    result["body"] = client.get(url, secure=True).content.decode("utf-8", errors="replace")
    return result


def _last_code(mobile):
    record = SmsRecord.objects.filter(mobile=mobile).order_by("-pk").first()
    return record.params["code"] if record else ""


def _signed_in_client(mobile):
    """An owner's browser, signed in through the real code flow (the code read from the
    database SMS backend's SmsRecord)."""
    client = Client()
    response = client.post(SIGN_IN, {"mobile": mobile}, secure=True)
    if response.status_code != 302:
        raise RuntimeError(f"sign-in code request for the owner answered {response.status_code}")
    response = client.post(CODE, {"code": _last_code(mobile)}, secure=True)
    if response.status_code != 302:
        raise RuntimeError(f"sign-in with the code answered {response.status_code}")
    return client


def _page(client, url, requests, case, owner_page):
    try:
        measured = _timed(client, url, requests)
    except Exception as error:  # a 500 is a finding, not the end of the run
        return {"url": url, "error": f"{type(error).__name__}: {str(error)[:200]}"}
    body = measured.pop("body")
    shown = body.count(f"【{NOTE_MARK} ")
    images = body.count("<img ")
    problems = []
    if case["number"] not in body:
        problems.append("页面中没有工单号")
    if shown != case["notes"]:
        problems.append(f"进展备注显示 {shown} 条，应为 {case['notes']} 条")
    if images < case["photos"]:
        problems.append(f"照片显示 {images} 张，应为 {case['photos']} 张")
    if INTERNAL_MARK in body:
        problems.append("内部备注出现在页面上")
    if owner_page and "给客服留言" not in body:
        problems.append("业主未被识别为本工单业主（无留言表单）")
    return {"url": url, **measured, "notes_shown": shown, "images": images, "problems": problems}


def _sign_in_requests(mobiles, requests):
    """POST /owner/sign-in/ in process, each for its own number from its own address (the
    per-IP limit is 20 an hour): the median of ``requests`` after one warm-up, the queries of
    one more."""
    if len(mobiles) < requests + 2:
        raise ValueError("not enough in-process sign-in numbers")
    client = Client()
    times, statuses = [], []

    def post(n):
        return client.post(SIGN_IN, {"mobile": mobiles[n]}, secure=True, REMOTE_ADDR=f"127.88.{n // 250}.{n % 250 + 1}")

    statuses.append(post(0).status_code)
    for n in range(1, requests + 1):
        started = time.perf_counter()
        response = post(n)
        times.append(time.perf_counter() - started)
        statuses.append(response.status_code)
    with CaptureQueriesContext(connection) as queries:
        statuses.append(post(requests + 1).status_code)
    return {"median_ms": _ms(statistics.median(times)), "min_ms": _ms(min(times)), "max_ms": _ms(max(times)),
            "queries": len(queries), "statuses": statuses, "sent": requests + 2}


def _baselines(client, hello, requests):
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

    return {"hello_ms": _timed(client, hello, requests)["median_ms"], "select1_ms": median(select_one)}


def measure(requests, setup_json):
    requests = int(requests)
    data = json.loads(Path(setup_json).read_text(encoding="utf-8"))
    owner = _signed_in_client(data["owner_mobile"])
    contractor = Client()
    out = {"case_page": {}, "work_page": {}}
    for size, case in data["cases"].items():
        out["case_page"][size] = _page(owner, case["path"], requests, case, owner_page=True)
        out["work_page"][size] = _page(contractor, case["work"], requests, case, owner_page=False)
    out["baseline"] = _baselines(owner, data["hello"], requests)
    try:
        out["sign_in"] = _sign_in_requests(data["inproc_mobiles"], requests)
    except Exception as error:
        out["sign_in"] = {"error": f"{type(error).__name__}: {str(error)[:200]}"}
    return out


# --- codes --------------------------------------------------------------------------------------


def codes(setup_json):
    """What the HTTP sign-in requests left: SignInCode rows (one per request sent) and the SMS
    the database backend recorded, for the HTTP owners' numbers only."""
    from notifications.channels import SmsChannel
    from owners.codes import SMS_TEMPLATE

    mobiles = json.loads(Path(setup_json).read_text(encoding="utf-8"))["http_mobiles"]
    rows = SignInCode.objects.filter(mobile__in=mobiles)
    return {
        "codes": rows.count(),
        "mobiles": rows.values("mobile").distinct().count(),
        "per_mobile_max": (rows.values("mobile").annotate(n=Count("id")).order_by("-n")
                           .values_list("n", flat=True).first() or 0),
        "ips": rows.values("ip").distinct().count(),
        "sms": SmsRecord.objects.filter(mobile__in=mobiles,
                                        template_code=SmsChannel.template_code(SMS_TEMPLATE)).count(),
    }


COMMANDS = {"seed": seed, "setup": setup, "measure": measure, "codes": codes}

if __name__ == "__main__":
    command, *args = sys.argv[1:]
    print(json.dumps(COMMANDS[command](*args), ensure_ascii=False, default=str))
