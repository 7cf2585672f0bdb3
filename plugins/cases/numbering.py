"""Readable case numbers, one sequence per kind and day: BX20261123-0007."""

from django.apps import apps
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import CaseCounter


def settings():
    return apps.get_app_config("cases").settings


def next_number(kind, when=None):
    """The next number for ``kind`` on the (Asia/Shanghai) day of ``when``. The counter row is
    locked by the UPDATE until the surrounding transaction ends, so two cases registered at the
    same moment get consecutive numbers, never the same one (ARCHITECTURE.md decision 6)."""
    day = timezone.localdate(when or timezone.now())
    with transaction.atomic():
        # get_or_create survives a race on the first case of the day: it retries the read
        # after the other transaction's insert.
        counter, _ = CaseCounter.objects.get_or_create(kind=kind, day=day)
        CaseCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
        seq = CaseCounter.objects.filter(pk=counter.pk).values_list("last", flat=True).get()
    conf = settings()
    return conf["NUMBER_FORMAT"].format(prefix=conf["NUMBER_PREFIXES"][kind], date=day, seq=seq)
