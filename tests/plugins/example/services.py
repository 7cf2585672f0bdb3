"""The plugin's verbs; its receivers and views call these."""

from plugins.conf import plugin_settings

from .models import HandoverNote


def greeting():
    return plugin_settings("example")["GREETING"]


def note_handover(unit, handover_date):
    return HandoverNote.objects.create(unit=unit, handover_date=handover_date, greeting=greeting())
