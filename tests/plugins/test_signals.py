"""Every signal in plugins/signals.py is documented where it is declared: a ``#:`` comment block
right above it naming the sender and the keyword arguments; and the core sender sends exactly
the arguments documented."""

import ast
import datetime
import inspect
import re

import pytest
from django.dispatch import Signal

import plugins.signals
from estates.models import Unit
from estates.services import record_handover
from tests import factories

ARGUMENT = re.compile(r"\b([a-z_][a-z0-9_]*):\s")


def documented_signals():
    """{name: comment text} for every ``name = Signal(...)`` at the top of plugins/signals.py."""
    source = inspect.getsource(plugins.signals)
    lines = source.splitlines()
    found = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        func = node.value.func
        if (func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)) != "Signal":
            continue
        comment = []
        number = node.lineno - 2  # the line above, 0-based
        while number >= 0 and lines[number].startswith("#:"):
            comment.insert(0, lines[number][2:].strip())
            number -= 1
        for target in node.targets:
            found[target.id] = " ".join(comment)
    return found


def documented_arguments(comment):
    """The names documented as ``name: …`` after ``sender:``."""
    return ARGUMENT.findall(comment.partition("sender:")[2])


def test_the_parser_sees_every_signal():
    declared = {name for name, value in vars(plugins.signals).items() if isinstance(value, Signal)}
    assert declared
    assert set(documented_signals()) == declared


@pytest.mark.parametrize("name", sorted(documented_signals()))
def test_signal_documents_sender_and_arguments(name):
    comment = documented_signals()[name]
    assert comment.startswith("Sent by "), f"{name}: say who sends it and when"
    assert "sender:" in comment, f"{name}: document the sender"
    assert documented_arguments(comment), f"{name}: document the keyword arguments"


@pytest.mark.django_db
def test_unit_handed_over_sends_the_documented_arguments(django_capture_on_commit_callbacks):
    documented = documented_arguments(documented_signals()["unit_handed_over"])
    assert documented == ["unit", "handover_date", "user", "reason"]

    received = []

    def receiver(sender, **kwargs):
        received.append((sender, kwargs))

    plugins.signals.unit_handed_over.connect(receiver, dispatch_uid="test.documented_arguments")
    try:
        unit = factories.UnitFactory()
        user = factories.UserFactory(is_superuser=True)
        with django_capture_on_commit_callbacks(execute=True):
            record_handover(unit, datetime.date(2026, 11, 20), user, "集中交付")
    finally:
        plugins.signals.unit_handed_over.disconnect(dispatch_uid="test.documented_arguments")

    ((sender, kwargs),) = received
    assert sender is Unit
    assert set(kwargs) - {"signal"} == set(documented)
    assert kwargs["unit"].pk == unit.pk
    assert (kwargs["handover_date"], kwargs["user"], kwargs["reason"]) == (
        datetime.date(2026, 11, 20),
        user,
        "集中交付",
    )
