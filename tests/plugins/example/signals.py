"""Receivers, connected in ``ExamplePlugin.ready()``."""

from . import services


def note_handover(sender, unit, handover_date, **kwargs):
    """``plugins.signals.unit_handed_over``: keep a note of the handover."""
    services.note_handover(unit, handover_date)
