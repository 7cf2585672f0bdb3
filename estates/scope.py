"""Who may see which project (ARCHITECTURE.md decision 3).

``projects_for(user)`` is the one answer; ``restrict(queryset, user)`` applies it to any model
registered in SCOPE_PATHS. Every estates admin list, inspect, edit, export, filter choice and
chooser goes through ``restrict``; later apps register their own models' paths.
"""

from django.db.models import Exists, OuterRef

from .models import Building, Contractor, Department, Owner, Ownership, Project, Trade, Unit

#: model → lookup from that model to Project ("" for Project itself).
#: None means the model is not project-bound (departments, trades): visible to all staff.
#: A model missing here is an error in ``restrict``: every model says which it is.
SCOPE_PATHS = {
    Project: "",
    Building: "project",
    Unit: "project",
    Ownership: "unit__project",
    Owner: "ownerships__unit__project",
    Contractor: "projects",
    Department: None,
    Trade: None,
}


#: Models whose rows linked to no project at all stay visible to every staff member who can see
#: the model: an owner just registered by limited staff has no unit yet, and must not vanish
#: from the very person who is about to link them to one. model → the to-many relation.
VISIBLE_WHEN_UNLINKED = {Owner: "ownerships"}


def register(model, path):
    """Let another app put its model under the same scope (e.g. cases: ``Case → "project"``)."""
    SCOPE_PATHS[model] = path


def is_unrestricted(user):
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    profile = getattr(user, "_scope_profile", None)
    if profile is None:
        profile = _profile(user)
    return bool(profile and profile.all_projects)


def _profile(user):
    from .models import StaffProfile

    if not getattr(user, "is_authenticated", False):
        return None  # anonymous: no profile, no projects
    profile = StaffProfile.objects.filter(user=user).first()
    user._scope_profile = profile or False
    return profile


def project_ids_for(user):
    """The ids of the projects ``user`` serves, or None when they serve all. Cached per user
    object, so one request asks the database once."""
    if is_unrestricted(user):
        return None
    cached = getattr(user, "_scope_project_ids", None)
    if cached is not None:
        return cached
    profile = getattr(user, "_scope_profile", None)
    if profile is None:
        profile = _profile(user)
    ids = frozenset(profile.projects.values_list("id", flat=True)) if profile else frozenset()
    user._scope_project_ids = ids
    return ids


def projects_for(user):
    """The projects ``user`` may see, as a Project queryset."""
    ids = project_ids_for(user)
    queryset = Project.objects.all()
    return queryset if ids is None else queryset.filter(id__in=ids)


def restrict(queryset, user):
    """Narrow ``queryset`` to the rows of projects ``user`` serves."""
    model = queryset.model
    if model not in SCOPE_PATHS:
        raise LookupError(f"{model.__name__} has no scope path; call estates.scope.register()")
    path = SCOPE_PATHS[model]
    if path is None:
        return queryset
    ids = project_ids_for(user)
    if ids is None:
        return queryset
    if path == "":
        return queryset.filter(id__in=ids)
    if _crosses_to_many(model, path):
        # A to-many path: filter with EXISTS so rows are not repeated and no DISTINCT is needed.
        inner = model._default_manager.filter(pk=OuterRef("pk"), **{f"{path}__in": ids})
        condition = Exists(inner)
        unlinked_via = VISIBLE_WHEN_UNLINKED.get(model)
        if unlinked_via:
            linked = model._default_manager.filter(pk=OuterRef("pk"), **{f"{unlinked_via}__isnull": False})
            condition |= ~Exists(linked)
        return queryset.filter(condition)
    return queryset.filter(**{f"{path}__in": ids})


def _crosses_to_many(model, path):
    for name in path.split("__"):
        field = model._meta.get_field(name)
        if field.one_to_many or field.many_to_many:
            return True
        model = field.related_model
    return False


def in_scope(obj, user):
    """Whether a single object is visible to ``user``. Like ``restrict``, refuses a model with
    no scope path rather than letting its objects through."""
    model = type(obj)
    if model not in SCOPE_PATHS:
        raise LookupError(f"{model.__name__} has no scope path; call estates.scope.register()")
    if SCOPE_PATHS[model] is None or project_ids_for(user) is None:
        return True
    return restrict(model._default_manager.filter(pk=obj.pk), user).exists()
