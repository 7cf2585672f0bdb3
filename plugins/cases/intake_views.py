"""来电登记 (/admin/cases/intake/): the call-centre agent's look-up while a caller is on the line.

A plain GET form (works without JavaScript): ``q`` is a mobile, an owner's name or a unit label
(plugins/cases/intake.py reads it); ``unit`` and ``category`` narrow the "possible duplicate"
marker to open cases of that unit and category. Needs ``cases.add_case``; everything shown is
limited to the agent's projects (estates.scope).

"Add this call to it" posts to ``cases_intake_add_call``, which calls ``services.add_note`` (the
service checks ``cases.handle_case`` and the scope, locks the case and writes the timeline event
in one transaction) and comes back to the look-up.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse, reverse_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView, View
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from estates import scope

from . import intake, services
from .models import Case, Category

PERMISSION = "cases.add_case"


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


class IntakeMixin:
    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class IntakeView(IntakeMixin, WagtailAdminTemplateMixin, TemplateView):
    """来电登记: type, see the caller's owners, units and cases."""

    template_name = "cases/admin/intake.html"
    page_title = _("来电登记")
    header_icon = "search"

    def get(self, request, *args, **kwargs):
        context = self.get_context_data()
        result = context["result"]
        status = 400 if result is not None and result.invalid else 200
        return self.render_to_response(context, status=status)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = self.request.GET
        categories = list(Category.objects.filter(active=True).select_related("parent"))
        category_id = _int(params.get("category"))
        category = next((item for item in categories if item.pk == category_id), None)
        result = None
        if "q" in params:
            result = intake.lookup(self.request.user, params.get("q", ""), unit_id=_int(params.get("unit")),
                                   category=category)
        may_add_call = self.request.user.has_perm("cases.handle_case")
        context.update(
            result=result,
            q=params.get("q", ""),
            categories=categories,
            category=category,
            may_add_call=may_add_call,
            recent_days=intake.RECENT_DAYS,
            max_cases=intake.MAX_CASES,
            rows=self._rows(result) if result is not None else [],
            owner_rows=self._owner_rows(result, category) if result is not None else [],
        )
        return context

    def _link(self, **params):
        query = {key: value for key, value in params.items() if value not in (None, "")}
        return f"{reverse('cases_intake')}?{urlencode(query)}"

    def _owner_rows(self, result, category):
        picked = result.picked_unit.pk if result.picked_unit is not None else None
        rows = []
        for item in result.owners:
            rows.append({
                "owner": item["owner"],
                "units": [{
                    "unit": unit,
                    "picked": unit.pk == picked,
                    "pick_url": self._link(q=result.text, unit=unit.pk, category=category.pk if category else None),
                } for unit in item["units"]],
            })
        return rows

    def _rows(self, result):
        return [{
            **row,
            "url": reverse("wagtailsnippets_cases_case:inspect", args=(row["case"].pk,)),
            "add_call_url": reverse("cases_intake_add_call", args=(row["case"].pk,)),
        } for row in result.cases]


class AddCallView(IntakeMixin, View):
    """POST: add what the caller said to an open case as a note (services.add_note)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        case = get_object_or_404(scope.restrict(Case.objects.all(), request.user), pk=pk)
        back = {key: request.POST.get(key, "") for key in ("q", "unit", "category")}
        back_url = f"{reverse('cases_intake')}?{urlencode({k: v for k, v in back.items() if v})}"
        words = request.POST.get("text", "")
        try:
            if not words.strip():
                raise ValidationError(gettext("请填写来电内容。"))
            services.add_note(case, request.user, gettext("来电补充：%(text)s") % {"text": words.strip()})
        except services.CaseNotFound:
            raise Http404 from None
        except ValidationError as error:  # CaseRefused: no permission, too long …
            messages.error(request, " ".join(error.messages))
            return redirect(back_url)
        messages.success(request, gettext("已将本次来电记入工单 %(number)s。") % {"number": case.number})
        return redirect(back_url)


# --- Wiring (wagtail_hooks.py) ---------------------------------------------------------------------


def intake_urls():
    return [
        path("cases/intake/", IntakeView.as_view(), name="cases_intake"),
        path("cases/intake/add-call/<int:pk>/", AddCallView.as_view(), name="cases_intake_add_call"),
    ]


class IntakeMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(PERMISSION)


def intake_menu_item():
    # Beside 回访台 (182).
    return IntakeMenuItem(_("来电登记"), reverse_lazy("cases_intake"), name="cases-intake", icon_name="search",
                          order=183)
