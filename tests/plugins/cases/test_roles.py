"""The five roles created by migration cases/0005_roles (ARCHITECTURE.md decisions 2 and 3), each
held by a user serving one project: which verbs the case page offers them and which the
services accept, which admin screens and menu items open, every refusal a 403 or a Chinese
message (never a 500), and that running the migration's function again never restores what an
administrator removed."""

import functools
import importlib
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.migrations.loader import MigrationLoader

from plugins.cases import services
from plugins.cases.models import CaseEvent, Status
from plugins.cases.views import VERBS
from tests.factories import (
    BuildingFactory,
    ContractorFactory,
    DepartmentFactory,
    StaffProfileFactory,
    UnitFactory,
    UserFactory,
)
from tests.plugins.cases.test_admin import (
    LIST_URL,
    act_url,
    advance,
    case_url,
    messages_of,
    sidebar_menu,
)

roles_migration = importlib.import_module("plugins.cases.migrations.0005_roles")

AGENT, DISPATCHER, LIAISON, QUALITY, MANAGER = "呼叫中心坐席", "派单员", "工程联络人", "质量经理", "客服经理"
ROLES = (AGENT, DISPATCHER, LIAISON, QUALITY, MANAGER)

# --- What each role may do (the intent; the migration and VERBS must produce it) -----------------

#: Working a case: every role does these.
HANDLING = {"accept", "contact", "start", "pause", "resume", "on_site", "department_reply", "answer",
            "complete", "note", "attach"}
ROLE_VERBS = {
    AGENT: HANDLING | {"sign_off", "callback"},
    DISPATCHER: HANDLING | {"dispatch", "work_link"},
    LIAISON: HANDLING,
    QUALITY: HANDLING | {"sign_off", "callback", "close", "cancel", "third_party", "recheck", "escalate",
                         "reopen", "deposit_charge", "compensation"},
    MANAGER: set(VERBS),
}

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def member(project):
    """member(role) -> a user in that group, serving 钱塘雅苑 (HZ01) only."""

    def make(role):
        user = UserFactory(username=f"role-{ROLES.index(role)}")
        user.groups.add(Group.objects.get(name=role))
        StaffProfileFactory(user=user, projects=[project])
        return user

    return make


@pytest.fixture
def boss(admin_user):
    return admin_user


def test_the_five_groups_exist_and_every_verb_has_a_role(db):
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == set(ROLES)
    assert set().union(*ROLE_VERBS.values()) == set(VERBS)


# --- Scenarios: cases in the states where the verbs apply ------------------------------------------


@pytest.fixture
def scenario(boss, new_case, project):
    """scenario(verb) -> (a case on which ``verb`` is possible now, that verb's form data)."""
    department = DepartmentFactory(code="ENG", name="工程部")
    first, second = (ContractorFactory(name=name, projects=[project]) for name in ("甲建设", "乙维修"))

    def repair(status):
        return advance(new_case(), boss, status, contractor=first, department=department)

    def complaint(*steps):
        case = new_case(kind="complaint")
        for step in steps:
            getattr(services, step)(case, boss)
        case.refresh_from_db()
        return case

    def pending_compensation():
        case = repair(Status.DISPATCHED)
        # Asked for by someone else: nobody decides on their own request.
        requester = UserFactory(username="requester", is_superuser=True)
        compensation = services.request_compensation(case, requester, amount="200.00", reason="地板泡水")
        return case, {"compensation": compensation.pk, "approve": "yes", "note": "同意"}

    def handed_over():
        case = repair(Status.DISPATCHED)
        services.hand_to_third_party(case, boss, second, "原单位未按时维修")
        case.refresh_from_db()
        return case, {"amount": "350.00", "evidence": "第三方报价单"}

    pdf = lambda: SimpleUploadedFile("单据.pdf", b"%PDF-1.4 x", "application/pdf")  # noqa: E731
    setups = {
        "accept": lambda: (repair(Status.REGISTERED), {}),
        "dispatch": lambda: (repair(Status.REGISTERED), {"department": department.pk}),
        "contact": lambda: (repair(Status.DISPATCHED), {"reached": "on", "note": "约好明早上门"}),
        "start": lambda: (repair(Status.DISPATCHED), {}),
        "pause": lambda: (repair(Status.DISPATCHED), {"reason": "owner"}),
        "resume": lambda: (repair(Status.PAUSED), {}),
        "on_site": lambda: (repair(Status.DISPATCHED), {}),
        "department_reply": lambda: (complaint("accept"), {"text": "工程部已安排复查"}),
        "answer": lambda: (complaint("accept"), {"text": "已安排工程部处理"}),
        "complete": lambda: (repair(Status.IN_PROGRESS), {"result": "已更换密封圈"}),
        "sign_off": lambda: (repair(Status.COMPLETED), {"accepted": "yes"}),
        "callback": lambda: (repair(Status.SIGNED_OFF), {"reached": "on", "score": "5"}),
        "close": lambda: (repair(Status.SIGNED_OFF), {}),
        "third_party": lambda: (repair(Status.DISPATCHED), {"contractor": second.pk, "reason": "一次未修好"}),
        "recheck": lambda: (complaint("accept", "close"), {"text": "现场复核无异常"}),
        "deposit_charge": handed_over,
        "compensation": lambda: (repair(Status.DISPATCHED), {"amount": "100.00", "reason": "误工补偿"}),
        "compensation_decision": pending_compensation,
        "escalate": lambda: (repair(Status.REGISTERED), {"reason": "业主多次来电"}),
        "reopen": lambda: (repair(Status.COMPLETED), {"reason": "业主反映仍漏水"}),
        "cancel": lambda: (repair(Status.REGISTERED), {"reason": "重复登记"}),
        "note": lambda: (repair(Status.REGISTERED), {"text": "业主白天不在家"}),
        "attach": lambda: (repair(Status.REGISTERED), {"files": pdf(), "purpose": "other"}),
        "work_link": lambda: (repair(Status.DISPATCHED), {"renew": "yes", "reason": "师傅换了手机"}),
    }

    def make(verb):
        case, data = setups[verb]()
        assert services.possible(verb, case), (verb, case.status)
        return case, {f"{verb}-{key}": value for key, value in data.items()}

    return make


def offered(client, case):
    response = client.get(case_url(case))
    assert response.status_code == 200
    return {entry["verb"].name for entry in response.context["verb_forms"]}


@pytest.mark.parametrize("role", ROLES)
def test_the_case_page_offers_each_role_its_verbs_that_apply_now(client, admin_client, member, scenario, role):
    user = member(role)
    cases = [scenario(verb)[0] for verb in ("accept", "contact", "resume", "sign_off", "close", "answer",
                                            "recheck", "compensation_decision", "deposit_charge")]
    everything = {case.pk: offered(admin_client, case) for case in cases}
    assert set().union(*everything.values()) == set(VERBS)  # the scenarios reach every verb
    client.force_login(user)
    for case in cases:
        assert offered(client, case) == ROLE_VERBS[role] & everything[case.pk], (role, case.status)


def verb_params():
    return [pytest.param(role, verb, id=f"{ROLES.index(role)}-{verb}") for role in ROLES for verb in VERBS]


@pytest.mark.parametrize("role, verb", verb_params())
def test_each_verb_is_accepted_or_refused_with_a_message(client, member, scenario, role, verb):
    user = member(role)
    case, data = scenario(verb)
    status, events = case.status, case.events.count()
    client.force_login(user)
    response = client.post(act_url(case, verb), data)
    assert response.status_code == 302 and response["Location"] == case_url(case), response.status_code
    shown = messages_of(client.get(case_url(case)))
    case.refresh_from_db()
    if verb in ROLE_VERBS[role]:
        assert str(VERBS[verb].success) in shown, shown
        assert case.events.filter(actor_user=user).exists()
    else:
        assert shown and all(CJK.search(message) for message in shown), shown
        assert str(VERBS[verb].success) not in shown
        assert (case.status, case.events.count()) == (status, events)
        assert not CaseEvent.objects.filter(actor_user=user).exists()


# --- Admin screens and menus -----------------------------------------------------------------------

SCREENS = {
    # name: (url, roles that may open it)
    "case list": (LIST_URL, set(ROLES)),
    "register": ("/admin/snippets/cases/case/add/", {AGENT, DISPATCHER, MANAGER}),
    "categories": ("/admin/snippets/cases/category/", set(ROLES)),
    "add category": ("/admin/snippets/cases/category/add/", {MANAGER}),
    "standard replies": ("/admin/snippets/cases/standardreply/", set(ROLES)),
    "routing rules": ("/admin/snippets/cases/routingrule/", {DISPATCHER, MANAGER}),
    "add routing rule": ("/admin/snippets/cases/routingrule/add/", {MANAGER}),
    "SLA policies": ("/admin/snippets/cases/slapolicy/", {MANAGER}),
    "add SLA policy": ("/admin/snippets/cases/slapolicy/add/", {MANAGER}),
    "calendars": ("/admin/snippets/cases/workcalendar/", {MANAGER}),
    "add calendar": ("/admin/snippets/cases/workcalendar/add/", {MANAGER}),
    "holidays": ("/admin/snippets/cases/workcalendarday/", {MANAGER}),
    "add holiday": ("/admin/snippets/cases/workcalendarday/add/", {MANAGER}),
    "unit chooser": ("/admin/snippets/choose/estates/unit/", set(ROLES)),
}


def assert_refused(client, path):
    """A 403, or Wagtail's redirect to the dashboard with a Chinese message."""
    response = client.get(path)
    if response.status_code == 403:
        return
    assert response.status_code == 302 and response["Location"] == "/admin/", (path, response.status_code)
    shown = messages_of(client.get("/admin/"))
    assert shown and all(CJK.search(message) for message in shown), shown


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_its_screens_and_no_others(client, member, role):
    client.force_login(member(role))
    for name, (path, allowed) in SCREENS.items():
        if role in allowed:
            assert client.get(path).status_code == 200, (role, name)
        else:
            assert_refused(client, path)


@pytest.mark.parametrize("role", ROLES)
def test_bulk_dispatch_is_for_dispatchers_and_managers(client, member, new_case, role):
    case = new_case()
    client.force_login(member(role))
    path = f"/admin/bulk/cases/case/dispatch/?id={case.pk}"
    if role in (DISPATCHER, MANAGER):
        assert client.get(path).status_code == 200
    else:
        assert_refused(client, path)


RULE_MENUS = {"工单分类": set(ROLES), "统一说辞": set(ROLES), "派单规则": {DISPATCHER, MANAGER},
              "时限规则": {MANAGER}, "工作日历": {MANAGER}, "节假日与调休": {MANAGER}}


@pytest.mark.parametrize("role", ROLES)
def test_each_roles_menu(client, member, role):
    client.force_login(member(role))
    desk = sidebar_menu(client.get("/admin/"))["客服工单"]
    assert desk["全部工单"] == LIST_URL and "我的工单（0）" in desk
    assert {label for label in RULE_MENUS if label in desk} == {
        label for label, roles in RULE_MENUS.items() if role in roles}


def test_a_role_sees_only_its_projects_cases(client, member, new_case, boss, other_project):
    mine = new_case()
    unit = UnitFactory(building=BuildingFactory(project=other_project, code="8"))
    theirs = services.register(boss, kind="repair", channel="hotline", project=other_project, unit=unit,
                               reporter_name="张先生", reporter_mobile="13700137000", description="外墙渗水")
    client.force_login(member(MANAGER))
    numbers = [case.number for case in client.get(LIST_URL).context["object_list"]]
    assert numbers == [mine.number]
    assert client.get(case_url(theirs)).status_code == 404
    assert client.post(act_url(theirs, "escalate"), {"escalate-reason": "看看"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.escalation_level == 0


# --- Running the migration again -----------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def migration_state_apps():
    """The app registry as the migration saw it (cases/0005_roles applied)."""
    return MigrationLoader(None, ignore_no_migrations=True).project_state(("cases", "0005_roles")).apps


def test_running_the_roles_migration_again_keeps_an_administrators_edits(db):
    dispatcher, liaison = Group.objects.get(name=DISPATCHER), Group.objects.get(name=LIAISON)
    dispatch = Permission.objects.get(content_type__app_label="cases", codename="dispatch_case")
    extra = Permission.objects.get(content_type__app_label="cases", codename="view_routingrule")
    dispatcher.permissions.remove(dispatch)
    liaison.permissions.add(extra)
    before = {group.name: set(group.permissions.values_list("pk", flat=True))
              for group in Group.objects.filter(name__in=ROLES)}

    roles_migration.create_roles(migration_state_apps(), None)

    after = {group.name: set(group.permissions.values_list("pk", flat=True))
             for group in Group.objects.filter(name__in=ROLES)}
    assert after == before
    assert not dispatcher.permissions.filter(pk=dispatch.pk).exists()
    assert liaison.permissions.filter(pk=extra.pk).exists()
    assert Group.objects.filter(name__in=ROLES).count() == len(ROLES)
