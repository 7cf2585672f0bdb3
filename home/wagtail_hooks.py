from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.log_actions import LogFormatter
from wagtail.snippets.models import register_snippet

from .opendays import ACTION_CANCEL, ACTION_CHECK_IN, ACTION_REGISTER
from .viewsets import PortalContentGroup

register_snippet(PortalContentGroup)


# --- Open-day registrations: the audit actions written by home.opendays ----------------------


class OpenDayLogFormatter(LogFormatter):
    """The history view's line: the action, the party size and the reason, if any."""

    def format_message(self, log_entry):
        data = log_entry.data or {}
        parts = [str(self.message)]
        if data.get("party_size"):
            parts.append(str(_("%(count)s 人")) % {"count": data["party_size"]})
        if data.get("reason"):
            parts.append(str(_("原因：%(reason)s")) % {"reason": data["reason"]})
        return "，".join(parts)


class RegisterFormatter(OpenDayLogFormatter):
    label = message = _("开放日报名")


class CancelFormatter(OpenDayLogFormatter):
    label = message = _("取消开放日报名")


class CheckInFormatter(OpenDayLogFormatter):
    label = message = _("开放日签到")


@hooks.register("register_log_actions")
def register_openday_log_actions(actions):
    actions.register_action(ACTION_REGISTER)(RegisterFormatter)
    actions.register_action(ACTION_CANCEL)(CancelFormatter)
    actions.register_action(ACTION_CHECK_IN)(CheckInFormatter)


@hooks.register("owner_home_panels")
def owner_open_days(request, owner):
    from .owner_panel import open_days_panel

    return open_days_panel(request, owner)
