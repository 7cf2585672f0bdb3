"""The review every public item passes before it goes live (DOMAIN.md lifecycle step 2):
customer service, then legal, each ticking the 8-point marketing review list."""

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.forms import TaskStateCommentForm
from wagtail.models import AbstractGroupApprovalTask

#: The 8-point list every reviewer confirms (DOMAIN.md, "Before sale").
REVIEW_CHECKLIST = [
    ("no_investment_promise", _("无投资回报、升值等承诺")),
    ("structure_dimensions", _("结构、尺寸与批准图纸一致")),
    ("prices", _("价格表述真实、无误导")),
    ("brands_match_standard", _("设备、材料品牌与交付标准一致")),
    ("property_service", _("物业服务承诺与物业合同一致")),
    ("green_space", _("绿地率等数据与规划一致")),
    ("facilities", _("会所、泳池、运动设施表述有依据")),
    ("schools", _("学校、幼儿园表述有依据")),
]


class ChecklistApprovalForm(TaskStateCommentForm):
    """Approving requires ticking every point of the list; the comment stays optional."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in REVIEW_CHECKLIST:
            self.fields[key] = forms.BooleanField(
                label=label, required=True,
                error_messages={"required": _("请逐项核对后勾选：%(item)s") % {"item": label}},
            )
        self.fields["comment"].required = False
        self.order_fields([key for key, _label in REVIEW_CHECKLIST] + ["comment"])


class MarketingReviewTask(AbstractGroupApprovalTask):
    """A group approval whose "approve" shows the review list and records that it was checked."""

    def get_actions(self, obj, user):
        if user.is_superuser or self._user_in_groups(user):
            return [
                ("reject", _("退回修改"), True),
                ("approve", _("逐项审核通过"), True),
            ]
        return []

    def get_form_for_action(self, action):
        return ChecklistApprovalForm if action == "approve" else TaskStateCommentForm

    def on_action(self, task_state, user, action_name, **kwargs):
        if action_name == "approve":
            ticked = [str(label) for key, label in REVIEW_CHECKLIST if kwargs.pop(key, False)]
            note = str(_("已核对审核清单 %(count)d 项") % {"count": len(ticked)})
            comment = kwargs.get("comment") or ""
            kwargs["comment"] = f"{note}：{'；'.join(ticked)}" + (f"\n{comment}" if comment else "")
        return super().on_action(task_state, user, action_name, **kwargs)

    @classmethod
    def get_description(cls):
        return _("指定用户组逐项核对 8 项营销审核清单后通过")

    class Meta:
        verbose_name = _("营销合规审核")
        verbose_name_plural = _("营销合规审核")
