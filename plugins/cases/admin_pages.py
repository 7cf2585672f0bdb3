"""What the case desk's own admin screens (来电登记, 回访台, 指标看板) share."""

from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin


class TitledPage(WagtailAdminTemplateMixin):
    """An admin page whose header names it: Wagtail's header shows the breadcrumbs, which
    otherwise end at 首页."""

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), {"url": "", "label": self.get_page_title()}]
