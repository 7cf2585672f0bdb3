"""The case desk's receiver for ``interview_finding_raised`` (plugins/signals.py): a problem an
owner raised in an interview becomes a case in one click.

The interviews plugin holds no foreign key to cases and this module imports nothing of it
(ARCHITECTURE.md decision 1): the case names the finding in ``source``
(``interviews.finding:<pk>``), whose unique constraint keeps it to one case per finding.

Channel: interviews are not in ``Channel`` and none is added. A phone interview becomes a
"hotline" case (the owner was reached by telephone, as on the hotline); every other method
(home visit, a visit to the office, other) a "walk_in" case (staff heard it face to face and
register it themselves, as at the front desk). The source tells the interview apart.

Reporter: the owner (name, mobile) when the interview names one; otherwise the interviewer
(name and the mobile in their estates.StaffProfile), who then relays the answer. Without any
mobile the raise is refused with a message: a case must have a number to call back.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from plugins.signals import interview_finding_raised

from . import services
from .models import Case, Category, Channel, Kind


def source_for(finding):
    return f"interviews.finding:{finding.pk}"


def _reporter(interview):
    if interview.owner_id:
        return interview.owner.name, interview.owner.mobile
    interviewer = interview.interviewer
    name = interviewer.get_full_name() or interviewer.get_username()
    profile = getattr(interviewer, "staff_profile", None)
    mobile = profile.mobile if profile is not None else ""
    if not mobile:
        raise ValidationError(
            _("这次访谈没有关联业主，访谈人“%(name)s”也没有登记手机号（员工服务范围），无法作为报事人立案。"
              "请先在访谈中选择业主，或为访谈人登记手机号。") % {"name": name},
            code="no_mobile",
        )
    return name, mobile


def _category(kind, hint):
    """The active category whose name is exactly the hint (a sub-category first), or None."""
    hint = (hint or "").strip()
    if not hint:
        return None
    matches = list(Category.objects.filter(kind=kind, active=True, name=hint)
                   .order_by(F("parent").asc(nulls_last=True), "sort_order", "pk")[:1])
    return matches[0] if matches else None


def _description(finding, interview, reporter_name):
    origin = _("（业主访谈 %(date)s · %(method)s · 访谈人 %(interviewer)s）") % {
        "date": date_format(interview.date, "Y-m-d"),
        "method": interview.get_method_display(),
        "interviewer": interview.interviewer.get_full_name() or interview.interviewer.get_username(),
    }
    text = finding.text.strip()
    if finding.category_hint:
        text = f"{text}\n{_('分类提示')}：{finding.category_hint}"
    return f"{text}\n{origin}"[: services.MAX_DESCRIPTION]


def open_case_from_finding(sender, finding, interview, user, **kwargs):
    """Open (or find) the case of ``finding`` as ``user``, who must be allowed to register cases
    in the interview's project (services.register checks it)."""
    source = source_for(finding)
    case = Case.objects.filter(source=source).first()
    if case is None:
        if finding.kind not in Kind.values:
            raise ValidationError(_("请选择问题类型（报修、投诉或咨询）。"), code="kind")
        reporter_name, reporter_mobile = _reporter(interview)
        fields = dict(
            kind=finding.kind,
            channel=Channel.HOTLINE if interview.method == "phone" else Channel.WALK_IN,
            project=interview.project,
            unit=interview.unit,
            owner=interview.owner,
            category=_category(finding.kind, finding.category_hint),
            reporter_name=reporter_name,
            reporter_mobile=reporter_mobile,
            description=_description(finding, interview, reporter_name),
            source=source,
        )
        try:
            with transaction.atomic():
                case = services.register(user, **fields)
        except IntegrityError:
            # Opened by someone else between the look-up and the insert (case_unique_source).
            case = Case.objects.filter(source=source).first()
            if case is None:
                raise
    return {"number": case.number, "url": reverse("wagtailsnippets_cases_case:inspect", args=[case.pk])}


# Connected when CasesPlugin.ready() imports this module: only an enabled case desk receives.
interview_finding_raised.connect(open_case_from_finding, dispatch_uid="cases.open_case_from_finding")
