from django.utils.translation import gettext_lazy as _

from plugins.base import PortalPlugin


class CasesPlugin(PortalPlugin):
    """The case desk: repairs, complaints and enquiries as one audit-logged case on SLA clocks."""

    name = "plugins.cases"
    label = "cases"
    verbose_name = _("客服工单")
    version = "0.1.0"
    description = _("报修、投诉、咨询统一登记为工单，按时限派单、跟进、回访，全程留痕。")
    default_settings = {
        # Case numbers: BX20261123-0007. ``prefix`` per kind, ``date`` in Asia/Shanghai.
        "NUMBER_FORMAT": "{prefix}{date:%Y%m%d}-{seq:04d}",
        "NUMBER_PREFIXES": {"repair": "BX", "complaint": "TS", "enquiry": "ZX"},
        # Clocks the sweep handles per transaction (manage.py sweep_cases).
        "SWEEP_BATCH_SIZE": 500,
        # Seconds the admin menu may show a user's queue counts before counting again; any saved
        # case makes them stale at once (plugins/cases/queues.py). 0 counts on every page.
        "QUEUE_COUNT_SECONDS": 30,
        # Days a contractor's work link works (plugins/cases/worklinks.py); a new dispatch, the
        # case's closing or cancelling ends it sooner.
        "WORK_LINK_DAYS": 7,
    }

    def seed_demo(self, size="small", stdout=None):
        from .demo import seed_cases

        seed_cases(stdout=stdout, size=size)

    def ready(self):
        from django.db.models.signals import post_migrate, post_save

        from estates import scope
        from plugins.signals import form_submitted

        from . import checks  # noqa: F401  (registers the system check cases.W001)
        from .models import Case, CaseAttachment, Compensation, DepositCharge
        from .signals import case_saved, open_case_from_submission

        scope.register(Case, "project")
        for model in (CaseAttachment, Compensation, DepositCharge):
            scope.register(model, "case__project")
        form_submitted.connect(open_case_from_submission, dispatch_uid="cases.open_case_from_submission")
        from . import interview_findings  # noqa: F401  (connects open_case_from_finding to interview_finding_raised)
        post_save.connect(case_saved, sender=Case, dispatch_uid="cases.case_saved")
        # On SQLite a later migration that rebuilds cases_case drops the search triggers.
        from . import search

        post_migrate.connect(search.repair_after_migrate, sender=self, dispatch_uid="cases.search_repair")
