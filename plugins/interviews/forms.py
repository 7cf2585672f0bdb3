"""The interview form of the admin (create and edit) with its findings formset."""

from django.utils.translation import gettext as _
from wagtail.admin.forms import WagtailAdminModelForm

from estates import scope

#: Fields of a finding that staff type; a raised finding keeps them as they were.
FINDING_FIELDS = ("kind", "text", "category_hint")


class InterviewForm(WagtailAdminModelForm):
    """Findings need a kind and a text; a finding already raised as a case is shown read-only
    and cannot be deleted (its case holds a copy of the text and names it as its source)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self, "for_user", None)
        project = self.fields.get("project")
        if project is not None and user is not None and not self.instance.pk and not self.is_bound:
            ids = scope.project_ids_for(user)
            if ids is not None and len(ids) == 1:
                project.initial = next(iter(ids))
        # The unit chooser opens on the chosen project's units, the owner chooser on the chosen
        # unit's current owners (estates.viewsets.LINKED_FILTERS); a mismatch is still refused.
        for name, links in (("unit", {"project": {"id": "id_project"}}),
                            ("owner", {"unit": {"id": "id_unit"}, "project": {"id": "id_project"}})):
            widget = self.fields[name].widget if name in self.fields else None
            if hasattr(widget, "linked_fields"):
                widget.linked_fields = links
        if "topics" in self.fields:
            self.fields["topics"].error_messages["required"] = _("请填写访谈主题。")
        formset = self.formsets.get("findings")
        if formset is None:
            return
        for form in formset.forms:
            form.fields["kind"].error_messages["required"] = _("请选择问题类型。")
            form.fields["text"].error_messages["required"] = _("请填写问题描述。")
            if form.instance.pk and form.instance.is_raised:
                for name in FINDING_FIELDS:
                    form.fields[name].disabled = True
                form.fields["text"].help_text = _("已转为工单 %(number)s，不能再修改。") % {
                    "number": form.instance.case_reference}

    def is_valid(self):
        valid = super().is_valid()
        formset = self.formsets.get("findings")
        if formset is None:
            return valid
        for form in formset.forms:
            if form.instance.pk and form.instance.is_raised and formset._should_delete_form(form):
                self.add_error(None, _("问题“%(text)s”已转为工单 %(number)s，不能删除。") % {
                    "text": form.instance.text[:20], "number": form.instance.case_reference})
                valid = False
        return valid
