from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EstatesConfig(AppConfig):
    name = "estates"
    verbose_name = _("楼盘档案")
