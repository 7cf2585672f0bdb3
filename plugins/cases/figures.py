"""Contractor figures from the cases themselves (never hand-entered): the first-time-fix rate
the seeds measure per contractor and per category, third-party hand-overs, and the warranty
deposit left after the ledger's charges.

First-time fix (一次维修成功率), as computed here and shown on the scorecard:

* a repair counts for the contractor that had its one chance — the original contractor once the
  work went to a third party, else the contractor — as soon as that chance is over: the work
  was completed, or it was handed to a third party;
* it is a first-time fix when it was not handed over, not rejected at sign-off, not reopened
  after a low call-back score and not reopened by staff;
* rate = first-time fixes ÷ repairs counted.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from estates.models import Contractor

from .models import CaseEvent, Kind

FAILED = Q(verb="reopen") | Q(verb="sign_off", data__accepted=False) | Q(verb="callback", data__reopened=True)


@dataclass(frozen=True)
class Row:
    key: object
    label: str
    repairs: int
    first_time: int
    third_party: int

    @property
    def rate(self):
        return self.first_time / self.repairs if self.repairs else None


def counted_repairs(cases):
    """The repairs of ``cases`` whose contractor's one chance is over, with ``holder`` (the
    contractor that had it) and ``failed`` (reopened or rejected) annotated."""
    failed = Exists(CaseEvent.objects.filter(FAILED, case=OuterRef("pk")))
    return (
        cases.filter(kind=Kind.REPAIR)
        .annotate(holder=Coalesce("original_contractor", "contractor"))
        .filter(holder__isnull=False)
        .filter(Q(completed_at__isnull=False) | Q(original_contractor__isnull=False))
        .annotate(failed=failed)
    )


def _rows(cases, group, label):
    rows = (
        counted_repairs(cases).order_by().values(group)
        .annotate(
            label=label,
            repairs=Count("pk"),
            first_time=Count("pk", filter=Q(original_contractor__isnull=True, failed=False)),
            third_party=Count("pk", filter=Q(original_contractor__isnull=False)),
        )
        .order_by("label")
    )
    return [Row(row[group], row["label"] or "—", row["repairs"], row["first_time"], row["third_party"])
            for row in rows]


def first_time_fix_by_contractor(cases):
    """[Row] per contractor that had repairs of ``cases`` (one query)."""
    names = Contractor.objects.filter(pk=OuterRef("holder")).values("name")[:1]

    return _rows(cases, "holder", Subquery(names))


def first_time_fix_by_category(cases):
    """[Row] per repair category (its top-level parent's name first) (one query)."""
    return _rows(cases, "category_id", F("category__name"))


def deposit_balances(contractors):
    """{contractor id: (deposit, charged, balance)} from the ledger (one query)."""
    zero = Value(Decimal("0"), output_field=DecimalField(max_digits=12, decimal_places=2))
    rows = contractors.annotate(
        charged=Coalesce(Sum("deposit_charges__amount"), zero)
    ).values_list("pk", "warranty_deposit", "charged")
    return {pk: (deposit, charged, deposit - charged) for pk, deposit, charged in rows}
