"""The sweep tells people through the notifications outbox, exactly once per step."""

import datetime as dt

import time_machine

from notifications.models import Message
from plugins.cases import clocks, services
from plugins.cases.models import Category
from tests.conftest import staff_with_perms
from tests.plugins.cases.conftest import contractor

SH = dt.timezone(dt.timedelta(hours=8))


def at(*args):
    return dt.datetime(*args, tzinfo=SH)


def test_reminder_and_breach_reach_the_assignee_once(new_case, agent, project):
    boss = staff_with_perms("cases.handle_case", projects=[project], username="boss")
    agent.staff_profile.supervisor = boss
    agent.staff_profile.save()
    with time_machine.travel(at(2026, 3, 10, 9, 0), tick=False):
        case = new_case(category=Category.objects.get(code="daily-plumbing"))
        case = services.dispatch(case, agent, contractor=contractor(), assignee=agent)
    # Contact: 30 working minutes from 09:00, reminder at 09:24, due 09:30.
    with time_machine.travel(at(2026, 3, 10, 9, 25), tick=False):
        clocks.sweep()
        clocks.sweep()
    reminders = Message.objects.filter(key=f"case:{case.pk}:contact:remind")
    assert reminders.count() == 2  # the assignee's admin inbox and email: one message per channel
    assert set(reminders.values_list("user", flat=True)) == {agent.pk}
    inbox = reminders.get(channel="admin")
    assert case.number in inbox.subject and "联系业主" in inbox.subject
    with time_machine.travel(at(2026, 3, 10, 9, 31), tick=False):
        clocks.sweep()
        clocks.sweep()
    breaches = Message.objects.filter(key=f"case:{case.pk}:contact:breach")
    assert set(breaches.values_list("user", flat=True)) == {boss.pk} and breaches.count() == 2
    assert Message.objects.filter(key__startswith=f"case:{case.pk}:contact:remind").count() == 2
