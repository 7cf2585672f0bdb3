"""Fixtures and helpers shared by the open-day tests (test_opendays_*.py), which import them.

This module holds no tests of its own; it lives here because the open-day work owns only the
tests/home/test_opendays*.py files.
"""

import datetime
import itertools

import pytest
from django.core.cache import cache
from django.utils import timezone

from home import opendays as services
from tests.factories import ProjectFactory
from tests.portal import add_open_day, add_project_page, build_portal

_mobiles = itertools.count(1)


def next_mobile():
    """A fresh valid mainland mobile for each call."""
    return f"1390000{next(_mobiles) % 10000:04d}"


@pytest.fixture(autouse=True)
def clear_rate_limits():
    """Rate-limit counters live in the default cache; start and end every test without any."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def portal(db):
    return build_portal()


@pytest.fixture
def project(portal):
    project = ProjectFactory(code="HZ01", name="钱塘雅苑", hotline="0571-8888 6666")
    add_project_page(portal, project)
    return project


def in_days(days):
    return timezone.localdate() + datetime.timedelta(days=days)


@pytest.fixture
def open_day(portal, project):
    """A published open day a week ahead: one slot of 10 seats, at most 3 per registration."""
    return add_open_day(portal, project, slots=((in_days(7), 10, 3),), title="12月工地开放日")


@pytest.fixture
def slot(open_day):
    return open_day.slots.get()


def add_slot_page(portal, project, capacity=10, max_party=3, days=7, title="模拟验房"):
    page = add_open_day(portal, project, slots=((in_days(days), capacity, max_party),), title=title)
    return page.slots.get()


def make_registration(slot, mobile=None, party_size=1, name="张三", unit="3幢2单元1502", remark=""):
    return services.register(slot, name, next_mobile() if mobile is None else mobile, unit, party_size, remark)


def registration_form(**overrides):
    data = {
        "name": "李四",
        "mobile": "+86 138-0013-8000",
        "unit_or_contract": "5幢1单元801",
        "party_size": "2",
        "remark": "",
    }
    data.update(overrides)
    return data
