"""Case numbers under concurrency: the first cases of a day, registered at the same moment from
parallel connections, get consecutive numbers and never the same one."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from plugins.cases.models import CaseCounter
from plugins.cases.numbering import next_number

SH = dt.timezone(dt.timedelta(hours=8))


def take(when):
    try:
        return next_number("repair", when)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_parallel_first_numbers_of_a_day_are_distinct_and_consecutive():
    when = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SH)
    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(take, [when] * 24))
    assert sorted(numbers) == [f"BX20261123-{n:04d}" for n in range(1, 25)]
    assert CaseCounter.objects.get(kind="repair", day=dt.date(2026, 11, 23)).last == 24


@pytest.mark.django_db
def test_number_format_comes_from_the_plugin_settings(settings):
    settings.PLUGIN_SETTINGS = {"cases": {"NUMBER_FORMAT": "{prefix}-{date:%y%m%d}-{seq:05d}"}}
    assert next_number("complaint", dt.datetime(2026, 1, 2, 10, 0, tzinfo=SH)) == "TS-260102-00001"
