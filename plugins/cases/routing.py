"""Automatic dispatch by routing rules (自动派单): a new case goes at once to the department,
contractor and person its first matching ``RoutingRule`` names.

``services.register`` calls ``route`` inside its transaction, right after the case and its
register event are written, so a case a rule matches — an emergency above all (DOMAIN.md: 立即派单)
— is never seen registered but undispatched. The dispatch itself goes through
``services.dispatch`` as the system actor named after the rule, so the timeline and the history
row say which rule sent the case where.

Which rule. Active rules whose kind, priority, category (the case's or its parent), project and
building are blank or the case's, tried in ascending ``order``; at equal order the more specific
first (building, project, the case's own category before its parent's, kind, priority), then by
id. A rule is passed over when it cannot take this case: its contractor is no longer active or
does not list the case's project (``Contractor.projects``: an empty list serves no project, as
in the dispatch form and in estates.scope), or its pool names people but none of them may take
the case. A passed-over rule lets the next one try, so a general rule can catch what a
project's own contractor does not serve.

Who in the pool may take the case: active staff who may handle cases (``cases.handle_case``)
and serve the case's project (StaffProfile: all projects or this one; superusers serve all) —
the same people the dispatch form offers.

Cost: a fixed number of queries per registration whatever the number of rules or pool members
(the candidate rules; the eligible pool members of all of them; the lock on the chosen rule;
the open-case count for ``least_loaded``; the round-robin pointer; then the dispatch itself).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext as _

from estates.models import Contractor, StaffProfile

from . import services
from .models import Case, RoutingRule
from .models.choices import OPEN_STATUSES


def eligible_staff(project_ids=None):
    """Users who may be given cases: active staff with the permission to handle cases who
    serve one of ``project_ids`` (StaffProfile: all projects, or one of these), or anywhere
    when ``project_ids`` is None. Superusers serve every project."""
    User = get_user_model()
    handle = Permission.objects.filter(codename="handle_case", content_type__app_label="cases")
    via_group = User.groups.through.objects.filter(user_id=OuterRef("pk"), group__permissions__in=handle)
    direct = User.user_permissions.through.objects.filter(user_id=OuterRef("pk"), permission__in=handle)
    may = Exists(via_group) | Exists(direct)
    if project_ids is not None:
        serves = StaffProfile.objects.filter(user_id=OuterRef("pk")).filter(
            Q(all_projects=True) | Q(projects__in=list(project_ids))
        )
        may &= Exists(serves)
    return User.objects.filter(is_active=True, is_staff=True).filter(Q(is_superuser=True) | may)


def _category_chain(case):
    """The case's category and its parent (categories are two levels deep). Registration has
    the category object at hand, so this costs no query there."""
    if not case.category_id:
        return []
    return [pk for pk in (case.category_id, case.category.parent_id) if pk]


def candidates(case):
    """Active rules matching ``case``, best first, each with ``contractor_serves`` and
    ``has_pool`` annotated. One query."""
    chain = _category_chain(case)
    serves = Contractor.projects.through.objects.filter(
        contractor_id=OuterRef("contractor_id"), project_id=case.project_id
    )
    pool = RoutingRule.pool.through.objects.filter(routingrule_id=OuterRef("pk"))
    rules = (
        RoutingRule.objects.filter(
            Q(kind="") | Q(kind=case.kind),
            Q(priority="") | Q(priority=case.priority),
            Q(category__isnull=True) | Q(category_id__in=chain),
            Q(project__isnull=True) | Q(project_id=case.project_id),
            Q(building__isnull=True) | Q(building_id=case.building_id),
            active=True,
        )
        .select_related("department", "contractor")
        .annotate(contractor_serves=Exists(serves), has_pool=Exists(pool))
    )
    return sorted(rules, key=lambda rule: (
        rule.order,
        rule.building_id is None,
        rule.project_id is None,
        rule.category_id is None,
        rule.category_id != case.category_id,
        not rule.kind,
        not rule.priority,
        rule.pk,
    ))


def _pools(rules, project_id):
    """{rule id: [eligible members, by id]} for ``rules``. One query."""
    if not any(rule.has_pool for rule in rules):
        return {}
    rows = (
        RoutingRule.pool.through.objects.filter(
            routingrule_id__in=[rule.pk for rule in rules if rule.has_pool],
            user_id__in=eligible_staff([project_id]).values("pk"),
        )
        .select_related("user")
        .order_by("user_id")
    )
    pools = {}
    for row in rows:
        pools.setdefault(row.routingrule_id, []).append(row.user)
    return pools


def _usable(rule, members):
    if rule.contractor_id and not (rule.contractor.active and rule.contractor_serves):
        return False
    if rule.has_pool and not members:
        return False
    return bool(rule.department_id or rule.contractor_id or members)


def _pick(rule, members):
    """One member of the rule's pool, with the rule row locked until the registration commits:
    a second registration at the same moment waits here and sees the first one's pick (its
    pointer, or its case in the open-case counts)."""
    last = (
        RoutingRule.objects.select_for_update()
        .filter(pk=rule.pk)
        .values_list("last_assignee_id", flat=True)
        .get()
    )
    if rule.strategy == RoutingRule.Strategy.LEAST_LOADED:
        loads = dict(
            Case.objects.filter(assignee_id__in=[member.pk for member in members], status__in=OPEN_STATUSES)
            .order_by()
            .values("assignee_id")
            .annotate(n=Count("pk"))
            .values_list("assignee_id", "n")
        )
        chosen = min(members, key=lambda member: (loads.get(member.pk, 0), member.pk))
    else:
        # Round robin by user id: the next member after the last one, wrapping; a pointer to
        # someone who left the pool still orders correctly.
        later = [member for member in members if last is None or member.pk > last]
        chosen = later[0] if later else members[0]
    RoutingRule.objects.filter(pk=rule.pk).update(last_assignee=chosen)
    return chosen


def _targets_text(department, contractor, assignee):
    names = [str(target) for target in (department, contractor) if target is not None]
    if assignee is not None:
        names.append(assignee.get_full_name() or assignee.get_username())
    return "、".join(names)


def route(case, actor, when):
    """Dispatch the just-registered ``case`` by the first rule that matches and can take it;
    return that rule, or None (the case stays registered for a dispatcher).

    ``actor`` and ``when`` are the registration's; the dispatch is done by the system in the
    rule's name and stamped by ``services.dispatch`` itself (the contact and on-site clocks
    start when the case is really dispatched, even for a registration dated earlier)."""
    rules = candidates(case)
    if not rules:
        return None
    pools = _pools(rules, case.project_id)
    for rule in rules:
        members = pools.get(rule.pk, [])
        if _usable(rule, members):
            break
    else:
        return None
    assignee = _pick(rule, members) if members else None
    department, contractor = rule.department, rule.contractor
    dispatched = services.dispatch(
        case,
        services.Actor.system(_("自动派单：%(rule)s") % {"rule": rule.name}),
        department=department, contractor=contractor, assignee=assignee,
        note=_("按派单规则“%(rule)s”派给%(targets)s。")
        % {"rule": rule.name, "targets": _targets_text(department, contractor, assignee)},
    )
    # The caller goes on with its own instance of the case: bring it up to date.
    for field in Case._meta.concrete_fields:
        setattr(case, field.attname, getattr(dispatched, field.attname))
    case.department, case.contractor, case.assignee = department, contractor, assignee
    return rule
