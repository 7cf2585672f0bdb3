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

Call-back satisfaction (回访满意度) per contractor, for the same contractor as above: every
call-back that reached the owner and gave a score (an owner's own rating on their case page
counts the same), their average, and how many were below 3 (those reopened the case).

The reward/penalty suggestion (奖罚建议) on the scorecard follows from these figures with the
thresholds below (``suggestion``); managers decide, the page only suggests.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext as _

from estates.models import Contractor

from .models import CaseEvent, Kind
from .models.cases import FAILED_EVENTS, holder
from .services import LOW_SCORE

FAILED = FAILED_EVENTS


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
        .annotate(holder=holder())
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


# --- Call-back satisfaction and the reward/penalty suggestion -----------------------------------


@dataclass(frozen=True)
class Satisfaction:
    scored: int  # call-backs that reached the owner with a score, owners' own ratings included
    total: int  # the sum of their scores
    low: int  # scores below services.LOW_SCORE (each reopened its case)

    @property
    def average(self):
        return self.total / self.scored if self.scored else None


def callback_satisfaction_by_contractor(cases):
    """{contractor id: Satisfaction} over the scored call-backs of the counted repairs of
    ``cases``, for the contractor that had each repair's one chance (one query)."""
    rows = (
        CaseEvent.objects.filter(case__in=counted_repairs(cases).values("pk"), verb="callback", data__reached=True)
        .annotate(holder=holder("case__"), score=Cast(KT("data__score"), IntegerField()))
        .order_by().values("holder")
        .annotate(scored=Count("pk"), total=Sum("score"), low=Count("pk", filter=Q(score__lt=LOW_SCORE)))
    )
    return {row["holder"]: Satisfaction(row["scored"], row["total"] or 0, row["low"]) for row in rows}


#: 奖罚建议 thresholds (the scorecard writes them out under its table). Reward: at least
#: REWARD_MIN_REPAIRS repairs counted, a first-time-fix rate of at least REWARD_FIRST_TIME_PERCENT
#: and an average call-back score of at least REWARD_AVERAGE — and no reason for a penalty.
#: Penalty: a first-time-fix rate below PENALTY_FIRST_TIME_PERCENT, an average call-back score
#: below PENALTY_AVERAGE, or any repair handed to a third party.
REWARD_MIN_REPAIRS = 10
REWARD_FIRST_TIME_PERCENT = 95
REWARD_AVERAGE = Decimal("4.5")
PENALTY_FIRST_TIME_PERCENT = 80
PENALTY_AVERAGE = Decimal("3.5")


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "reward", "penalty" or "" (neither)
    label: str
    reasons: tuple = ()


def suggestion(row, satisfaction=None):
    """The reward/penalty suggestion for a contractor's ``row`` (first_time_fix_by_contractor)
    and its ``satisfaction`` (callback_satisfaction_by_contractor; None when no call-back was
    scored), with the reasons for a penalty. Exact arithmetic: no rounding decides a case."""
    scored = satisfaction.scored if satisfaction else 0
    total = satisfaction.total if satisfaction else 0
    reasons = []
    if row.repairs and row.first_time * 100 < PENALTY_FIRST_TIME_PERCENT * row.repairs:
        reasons.append(_("一次维修成功率低于 %(limit)s%%") % {"limit": PENALTY_FIRST_TIME_PERCENT})
    if scored and total < PENALTY_AVERAGE * scored:
        reasons.append(_("回访平均分低于 %(limit)s") % {"limit": PENALTY_AVERAGE})
    if row.third_party:
        reasons.append(_("转第三方 %(n)s 单") % {"n": row.third_party})
    if reasons:
        return Suggestion("penalty", _("建议处罚"), tuple(reasons))
    if (row.repairs >= REWARD_MIN_REPAIRS and row.first_time * 100 >= REWARD_FIRST_TIME_PERCENT * row.repairs
            and scored and total >= REWARD_AVERAGE * scored):
        return Suggestion("reward", _("建议奖励"))
    return Suggestion("", _("不奖不罚"))


def suggestion_thresholds():
    """The thresholds, for the scorecard's note."""
    return {"reward_min_repairs": REWARD_MIN_REPAIRS, "reward_first_time": REWARD_FIRST_TIME_PERCENT,
            "reward_average": REWARD_AVERAGE, "penalty_first_time": PENALTY_FIRST_TIME_PERCENT,
            "penalty_average": PENALTY_AVERAGE, "low_score": LOW_SCORE}
