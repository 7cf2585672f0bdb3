"""来电登记 (/admin/cases/intake/): the call-centre agent's look-up and registration while a
caller is on the line — one page, so the agent never leaves it.

Look-up: a plain GET form (works without JavaScript): ``q`` is a mobile, an owner's name or a
unit label (plugins/cases/intake.py reads it); ``unit`` and ``category`` narrow the "possible
duplicate" marker to open cases of that unit and category; ``owner`` is the owner picked with
one of their units. Needs ``cases.add_case``; everything shown is limited to the agent's
projects (estates.scope).

Registration: the form below the results (intake_forms.py), prefilled from the look-up, posts
to the same address (the look-up's parameters stay in the query string, so a re-rendered page
shows the same results). Answers:

- 302 back to the look-up of the caller's number with ``registered=<case>``: the success panel
  (number, where the routing rules sent it, the first due time) above the caller's cases;
- 400 with the Chinese message on the field and everything typed kept;
- 400 asking to confirm when the unit already has an open case of the category (with "add this
  call to it" beside it), unless ``confirm_new`` is ticked;
- 409 for a second submit of the same form (its idempotency token already opened a case): the
  first case's panel, nothing new (``intake.register_once``);
- 404 for a project or owner id outside the agent's projects (a forged or stale request).

``insert_reply`` (a standard reply's button) without JavaScript appends that reply to the
description and shows the form again; static/cases/intake.js inserts it at the cursor instead.

"Add this call to it" posts to ``cases_intake_add_call``, which calls ``services.add_note`` (the
service checks ``cases.handle_case`` and the scope, locks the case and writes the timeline event
in one transaction) and comes back to the look-up.
"""

from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.timesince import timeuntil
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView, View
from wagtail.admin.menu import MenuItem

from estates import scope
from estates.models import Owner

from . import intake, services
from .admin_pages import TitledPage
from .intake_forms import TOKEN_RE, IntakeRegisterForm, new_token
from .models import Case, ComplaintGrade, Kind, Priority
from .models.choices import OPEN_STATUSES

PERMISSION = "cases.add_case"
#: Due times are told to the caller in the company's local time.
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: At most this many open cases are named in the "possible duplicate" warning.
MAX_DUPLICATES = 5

#: services.register's refusal codes → the form field that shows the message.
ERROR_FIELDS = {"unit": "unit_label", "building": "unit_label", "category": "category", "scope": "project",
                "kind": "kind", "invalid_mobile": "reporter_mobile"}


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def category_tree(categories):
    """The active categories as <optgroup>s, one per kind and parent ("报修 · 日常维修"), in
    the order of Kind and the parents' sort order. A parent with children is the group's name,
    not an option; a category with no parent and no children sits in its kind's "其他" group."""
    kinds = {kind: index for index, kind in enumerate(Kind.values)}
    parents = {category.parent_id for category in categories if category.parent_id}
    groups = {}
    for category in categories:
        if category.parent_id is None and category.pk in parents:
            continue
        head = category.parent
        key = (kinds.get(category.kind, 99), *((head.sort_order, head.code) if head else (2**16, "")))
        group = groups.setdefault(key, {
            "label": f"{category.get_kind_display()} · {head.name if head else gettext('其他')}",
            "kind": category.kind,
            "options": [],
        })
        group["options"].append(category)
    return [groups[key] for key in sorted(groups)]


class IntakeMixin:
    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class IntakeView(IntakeMixin, TitledPage, TemplateView):
    """来电登记: type, see the caller's owners, units and cases; register the call."""

    template_name = "cases/admin/intake.html"
    page_title = _("来电登记")
    header_icon = "search"
    http_method_names = ["get", "post", "head", "options"]

    # --- What every rendering needs (one query in all) ----------------------------------------

    @cached_property
    def options(self):
        """Categories, the agent's projects and the standard replies: one query per request."""
        return intake.page_options(self.request.user)

    @property
    def categories(self):
        return self.options.categories

    @property
    def projects(self):
        return self.options.projects

    @property
    def replies(self):
        return self.options.replies

    def form_kwargs(self):
        return {"user": self.request.user, "projects": self.projects, "categories": self.categories}

    def lookup_category(self):
        category_id = _int(self.request.GET.get("category"))
        return next((item for item in self.categories if item.pk == category_id), None)

    # --- GET ----------------------------------------------------------------------------------

    def get(self, request, *args, **kwargs):
        result = self.lookup()
        form = None
        if result is not None and not result.invalid:
            form = IntakeRegisterForm(initial=self.initial(result), **self.form_kwargs())
        registered = self.panel(_int(request.GET.get("registered")))
        status = 400 if result is not None and result.invalid else 200
        return self.render_page(result, form, status=status, registered=registered)

    def lookup(self, unit_id=None, category=None):
        params = self.request.GET
        if "q" not in params:
            return None
        return intake.lookup(self.request.user, params.get("q", ""),
                             unit_id=unit_id or _int(params.get("unit")),
                             category=category or self.lookup_category())

    def picked_owner(self, result):
        """The owner the agent picked (``owner``, one of those found), the only one found, or
        the only current owner of the picked unit."""
        owners = [row["owner"] for row in result.owners]
        wanted = _int(self.request.GET.get("owner"))
        chosen = next((owner for owner in owners if owner.pk == wanted), None)
        if chosen is None and len(owners) == 1:
            chosen = owners[0]
        if chosen is None and result.picked_unit is not None:
            of_unit = [row["owner"] for row in result.owners if result.picked_unit in row["units"]]
            chosen = of_unit[0] if len(of_unit) == 1 else None
        return chosen

    def initial(self, result):
        """The registration form as the look-up fills it: the picked unit and owner as
        reporter, or an unknown number as the reporter's mobile, with a fresh token."""
        category = result.category
        initial = {
            "token": new_token(),
            "channel": "hotline",
            "kind": category.kind if category else Kind.REPAIR,
            "category": category.pk if category else "",
            "priority": Priority.EMERGENCY if category and category.emergency else Priority.NORMAL,
            "complaint_grade": ComplaintGrade.GENERAL,
        }
        unit, owner = result.picked_unit, self.picked_owner(result)
        if unit is not None:
            initial.update(project=unit.project_id, unit_label=unit.label)
        elif len(self.projects) == 1:
            initial["project"] = self.projects[0].pk
        if owner is not None:
            initial.update(owner=owner.pk, owner_offer=owner.pk, reporter_name=owner.name,
                           reporter_mobile=owner.mobile)
        elif result.kind == "mobile":
            initial["reporter_mobile"] = result.mobile  # an unknown number: the caller as reporter
        return initial

    # --- POST: register -----------------------------------------------------------------------

    def post(self, request, *args, **kwargs):
        user, data = request.user, request.POST
        token = data.get("token", "")
        good_token = bool(TOKEN_RE.match(token))
        if good_token:
            existing = intake.registered_with(token)
            if existing is not None:
                return self.already(existing, token)
        if data.get("insert_reply"):
            return self.insert_reply(data)
        if not good_token:  # the page re-rendered below carries a new one
            data = data.copy()
            data["token"] = new_token()
        form = IntakeRegisterForm(data, **self.form_kwargs())
        valid = form.is_valid()
        if form.not_found:
            raise Http404(gettext("项目或业主不存在，或不在您负责的项目内。"))
        if valid and not good_token:
            form.add_error(None, gettext("登记表单已失效（缺少防重复提交标记）：内容已保留，请核对后再次提交。"))
            valid = False
        duplicates = []
        if valid:
            duplicates = self.duplicates(form.cleaned_data)
            if duplicates and not form.cleaned_data["confirm_new"]:
                form.add_error("confirm_new", gettext(
                    "该房号已有同分类的未结工单（见下方）：可将本次来电记入该工单；确需另开新单，请勾选“仍登记为新工单”后再提交。"))
                valid = False
        if not valid:
            return self.invalid(form, duplicates)
        data = form.cleaned_data
        try:
            case, created = intake.register_once(
                user, token,
                kind=data["kind"], channel=data["channel"], category=data["category"], priority=data["priority"],
                complaint_grade=data["complaint_grade"], project=data["project"], unit=data["unit"],
                owner=data["owner"], reporter_name=data["reporter_name"], reporter_mobile=data["reporter_mobile"],
                description=data["description"],
            )
        except ValidationError as error:  # CaseRefused: the service has the last word
            form.add_error(ERROR_FIELDS.get(getattr(error, "code", None)), error.messages)
            return self.invalid(form, [])
        if not created:
            return self.already(case, token)
        messages.success(request, gettext("已登记工单 %(number)s。") % {"number": case.number})
        return redirect(self.done_url(case))

    def invalid(self, form, duplicates):
        data = form.cleaned_data if hasattr(form, "cleaned_data") else {}
        unit, category = data.get("unit"), data.get("category")
        result = self.lookup(unit_id=unit.pk if unit else None, category=category)
        return self.render_page(result, form, status=400, duplicates=duplicates)

    def already(self, case, token):
        """A second submit of one form: the first one's case, nothing new (409). A token that
        opened someone else's case (or one outside the agent's projects) is not theirs to see:
        the form is shown again with a new token."""
        user = self.request.user
        if case.registered_by_id != user.pk or not scope.restrict(Case.objects.filter(pk=case.pk), user).exists():
            form = IntakeRegisterForm(self.request.POST, **self.form_kwargs())
            form.is_valid()
            form.add_error(None, gettext("登记表单已失效：内容已保留，请核对后再次提交。"))
            form.data = form.data.copy()
            form.data["token"] = new_token()
            return self.render_page(self.lookup(), form, status=400)
        message = gettext("此登记已提交过：工单 %(number)s 已登记，未重复创建。") % {"number": case.number}
        messages.warning(self.request, message)
        result = self.lookup()
        form = None
        if result is not None and not result.invalid:
            form = IntakeRegisterForm(initial=self.initial(result), **self.form_kwargs())
        return self.render_page(result, form, status=409, registered=self.panel(case.pk), already=message)

    def insert_reply(self, data):
        """No JavaScript: the reply's text goes after the description; nothing is registered."""
        initial = {name: data.get(name, "") for name in IntakeRegisterForm.base_fields}
        initial["confirm_new"] = bool(data.get("confirm_new"))
        reply = next((item for item in self.replies if str(item.pk) == data.get("insert_reply")), None)
        if reply is not None:
            before = initial["description"].rstrip("\n")
            initial["description"] = f"{before}\n{reply.text}" if before else reply.text
        if not TOKEN_RE.match(initial["token"]):
            initial["token"] = new_token()
        form = IntakeRegisterForm(initial=initial, **self.form_kwargs())
        form.focus = "description"
        return self.render_page(self.lookup(), form)

    def duplicates(self, data):
        """Open cases of the same unit and category: the call may belong to one of them."""
        if data.get("unit") is None or data.get("category") is None:
            return []
        cases = scope.restrict(Case.objects.filter(unit=data["unit"], category=data["category"],
                                                   status__in=OPEN_STATUSES), self.request.user)
        return [{"case": case, "url": reverse("wagtailsnippets_cases_case:inspect", args=(case.pk,)),
                 "add_call_url": reverse("cases_intake_add_call", args=(case.pk,))}
                for case in cases.order_by("-registered_at", "-pk")[:MAX_DUPLICATES]]

    def done_url(self, case):
        query = {"q": case.reporter_mobile, "unit": case.unit_id, "owner": case.owner_id, "registered": case.pk}
        # No "#fragment": a page opened at a fragment skips autofocus (HTML spec), and the
        # cursor must wait in the look-up box for the next call.
        return self._link(**query)

    # --- The success panel --------------------------------------------------------------------

    def panel(self, pk):
        """The registered case as the agent tells the caller: its number, who has it, and when
        the first clock falls due (Asia/Shanghai). None for an id not in the agent's projects."""
        if pk is None:
            return None
        case = (scope.restrict(Case.objects.filter(pk=pk), self.request.user)
                .select_related("department", "contractor", "assignee", "category__parent", "unit", "project")
                .first())
        if case is None:
            return None
        routed = []
        if case.department is not None:
            routed.append((gettext("责任部门"), case.department.name))
        if case.contractor is not None:
            routed.append((gettext("施工单位"), case.contractor.name))
        if case.assignee is not None:
            routed.append((gettext("处理人"), case.assignee.get_full_name() or case.assignee.get_username()))
        clock = intake.first_due(case)
        return {
            "case": case,
            "url": reverse("wagtailsnippets_cases_case:inspect", args=(case.pk,)),
            "routed": routed,
            "clock": clock,
            # Told to the caller in Shanghai time, whatever the agent's admin time zone.
            "due": timezone.localtime(clock.due_at, SHANGHAI).strftime("%Y-%m-%d %H:%M") if clock else "",
            "left": timeuntil(clock.due_at, timezone.now()) if clock else "",
        }

    # --- Rendering ----------------------------------------------------------------------------

    def reply_rows(self, form):
        """The live replies, each marked shown when it fits the form's kind and category
        (general ones, the kind's, the category's or its parent's); intake.js re-marks them
        as the agent changes kind or category."""
        kind = form.value("kind")
        category = next((item for item in self.categories if str(item.pk) == form.value("category")), None)
        chain = {category.pk, category.parent_id} - {None} if category else set()
        return [{"reply": reply,
                 "shown": reply.kind in ("", kind) and (reply.category_id is None or reply.category_id in chain)}
                for reply in self.replies]

    def render_page(self, result, form, status=200, registered=None, duplicates=(), already=""):
        context = self.get_context_data(result=result, form=form, registered=registered, duplicates=duplicates,
                                        already=already)
        return self.render_to_response(context, status=status)

    def get_context_data(self, result=None, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        params = self.request.GET
        category = self.lookup_category()
        may_add_call = self.request.user.has_perm("cases.handle_case")
        focus = "q"
        if form is not None:
            focus = getattr(form, "focus", None) or self.form_focus(form, result, kwargs.get("registered"))
        context.update(
            result=result,
            form=form,
            q=params.get("q", ""),
            categories=self.categories,
            category=category,
            may_add_call=may_add_call,
            recent_days=intake.RECENT_DAYS,
            max_cases=intake.MAX_CASES,
            rows=self._rows(result) if result is not None else [],
            owner_rows=self._owner_rows(result, category) if result is not None else [],
            unit_links=self._unit_links(result, category) if result is not None else [],
            focus=focus,
        )
        if form is not None:
            chosen = next((item for item in self.categories if str(item.pk) == form.value("category")), None)
            context.update(
                projects=self.projects,
                category_groups=category_tree(self.categories),
                chosen_category=chosen,
                replies=self.reply_rows(form),
                kinds=Kind.choices,
                owner_choice=self.owner_choice(form, result),
                values={name: form.value(name) for name in form.fields},
                # An emergency category is registered as 紧急 whatever was posted (services.register).
                priority_value=Priority.EMERGENCY if chosen and chosen.emergency else form.value("priority"),
                confirm_checked=form.value("confirm_new") in ("True", "on"),
                action_url=self._link(**{key: value for key, value in params.items() if key != "registered"}),
            )
        return context

    def form_focus(self, form, result, registered):
        """Where the cursor goes: the first empty field of the form (or the first with an
        error) once the caller is found for sure — a whole mobile, a unit picked from the
        results, a whole unit label; otherwise (a name or label half typed, which the look-up
        reloads while the agent types; after a registration, for the next call) the look-up box."""
        if form.is_bound:
            return form.focus_field()
        if registered is not None or result is None:
            return "q"
        picked = result.picked_unit
        if (result.kind == "mobile"
                or (picked is not None and "unit" in self.request.GET)
                or (picked is not None and result.kind == "unit" and picked.label == result.text.replace(" ", ""))):
            return form.focus_field()
        return "q"

    def owner_choice(self, form, result):
        """The owner the form may link (the checkbox): the one the look-up offered, from the
        owners it found (no query) or, after a re-rendered post, read within the agent's
        projects."""
        pk = _int(form.value("owner_offer")) or _int(form.value("owner"))
        if pk is None:
            return None
        owners = [row["owner"] for row in result.owners] if result is not None else []
        found = next((owner for owner in owners if owner.pk == pk), None)
        if found is None:
            found = scope.restrict(Owner.objects.filter(pk=pk), self.request.user).first()
        return found

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
                    "pick_url": self._link(q=result.text, unit=unit.pk, owner=item["owner"].pk,
                                           category=category.pk if category else None),
                } for unit in item["units"]],
            })
        return rows

    def _unit_links(self, result, category):
        picked = result.picked_unit.pk if result.picked_unit is not None else None
        return [{
            "unit": unit,
            "picked": unit.pk == picked,
            "pick_url": self._link(q=result.text, unit=unit.pk,
                                   category=category.pk if category else None),
        } for unit in result.units]

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
        back = {key: request.POST.get(key, "") for key in ("q", "unit", "owner", "category")}
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
