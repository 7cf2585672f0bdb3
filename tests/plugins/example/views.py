from django.http import HttpResponse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from . import services
from .models import HandoverNote


def index(request):
    count = HandoverNote.objects.count()
    return HttpResponse(
        format_html(
            "<!doctype html><title>{}</title><p>{}</p><p>{}</p>",
            _("示例插件"),
            services.greeting(),
            _("已记录交付 %(count)d 次。") % {"count": count},
        )
    )
