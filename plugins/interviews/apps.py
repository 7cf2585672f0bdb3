from django.utils.translation import gettext_lazy as _

from plugins.base import PortalPlugin


class InterviewsPlugin(PortalPlugin):
    """Owner interviews (业主访谈): staff log who they talked to and what they heard; a finding
    becomes a case in one click (through the signal ``interview_finding_raised``, so this plugin
    never imports the case desk); each employee's progress against the yearly target."""

    name = "plugins.interviews"
    label = "interviews"
    verbose_name = _("业主访谈")
    version = "0.1.0"
    description = _("员工登记业主访谈与发现的问题，问题一键转为工单，按年度目标统计每人访谈进度。")
    # The yearly targets are business rules, edited in the admin (InterviewTargets), not here.
    default_settings = {}

    def seed_demo(self, size="small", stdout=None):
        from .demo import seed_interviews

        seed_interviews(size=size, stdout=stdout)

    def ready(self):
        from estates import scope

        from .models import Finding, Interview

        scope.register(Interview, "project")
        scope.register(Finding, "interview__project")
