"""Fixtures of the owner-interview tests: two projects (钱塘雅苑 HZ01, 浦江云庭 SH02), a unit of
each with its current owner, and staff in the real groups the migrations set up (the case
desk's roles with the interview permissions of interviews/0002)."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group

from plugins.interviews import services
from tests.factories import (
    BuildingFactory,
    OwnerFactory,
    OwnershipFactory,
    ProjectFactory,
    StaffProfileFactory,
    UnitFactory,
    UserFactory,
)

AGENT, DISPATCHER, QUALITY, MANAGER = "呼叫中心坐席", "派单员", "质量经理", "客服经理"
NS = "wagtailsnippets_interviews_interview"
LIST_URL = "/admin/snippets/interviews/interview/"
ADD_URL = "/admin/snippets/interviews/interview/add/"


@pytest.fixture
def project(db):
    return ProjectFactory(code="HZ01", name="钱塘雅苑")


@pytest.fixture
def other_project(db):
    return ProjectFactory(code="SH02", name="浦江云庭")


@pytest.fixture
def unit(project):
    return UnitFactory(building=BuildingFactory(project=project, code="3", name="3号楼"), number="1502")


@pytest.fixture
def owner(unit):
    return OwnershipFactory(unit=unit, owner=OwnerFactory(name="王秀英", mobile="13900139000")).owner


@pytest.fixture
def other_unit(other_project):
    return UnitFactory(building=BuildingFactory(project=other_project, code="5", name="5号楼"), number="801")


@pytest.fixture
def other_owner(other_unit):
    return OwnershipFactory(unit=other_unit, owner=OwnerFactory(name="赵建国", mobile="13700137000")).owner


@pytest.fixture
def member(db, project):
    """member(group, username, projects=None, mobile="", first_name="") -> an active staff user in
    that group, serving ``projects`` (default: 钱塘雅苑 only)."""

    def make(group, username, projects=None, mobile="", first_name=""):
        user = UserFactory(username=username, first_name=first_name)
        user.groups.add(Group.objects.get(name=group))
        StaffProfileFactory(user=user, projects=list(projects) if projects is not None else [project], mobile=mobile)
        return user

    return make


@pytest.fixture
def agent(member):
    return member(AGENT, "agent", first_name="林晓燕", mobile="13600136000")


@pytest.fixture
def manager(member):
    return member(MANAGER, "manager", first_name="周经理")


@pytest.fixture
def log(agent, project, unit, owner):
    """log(user=agent, **fields) -> an interview logged through the service."""

    def make(user=None, findings=(), **fields):
        values = dict(project=project, unit=unit, owner=owner, method="visit", topics="入住体验",
                      summary="业主对园区环境满意", date=dt.date.today() - dt.timedelta(days=3))
        values.update(fields)
        return services.log_interview(user or agent, findings=findings, **values)

    return make


def html(response):
    return response.content.decode()


def url(name, *args):
    from django.urls import reverse

    return reverse(f"{NS}:{name}", args=args)


def text_of(response):
    """The page's visible text, roughly: tags removed, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html(response)))


def form_data(project, *, unit=None, owner=None, date=None, method="visit", topics="物业服务", summary="",
              findings=(), existing=()):
    """POST data of the interview form: ``findings`` new rows as dicts (kind, text,
    category_hint), ``existing`` rows as (finding, changes) pairs."""
    rows = [{"id": finding.pk, "kind": finding.kind, "text": finding.text, "category_hint": finding.category_hint,
             **changes} for finding, changes in existing] + [dict(row) for row in findings]
    data = {
        "project": project.pk if project is not None else "",
        "unit": unit.pk if unit is not None else "",
        "owner": owner.pk if owner is not None else "",
        "date": (date or dt.date.today()).isoformat(),
        "method": method,
        "topics": topics,
        "summary": summary,
        "findings-TOTAL_FORMS": str(len(rows)),
        "findings-INITIAL_FORMS": str(len(existing)),
        "findings-MIN_NUM_FORMS": "0",
        "findings-MAX_NUM_FORMS": "1000",
    }
    for n, row in enumerate(rows):
        for key, value in row.items():
            if key == "DELETE":
                if value:
                    data[f"findings-{n}-DELETE"] = "on"
                continue
            data[f"findings-{n}-{key}"] = "" if value is None else value
    return data
