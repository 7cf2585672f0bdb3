"""The upload form of the admin's import page."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from estates import scope
from estates.models import Project


class ImportForm(forms.Form):
    project = forms.ModelChoiceField(label=_("导入到项目"), queryset=Project.objects.none())
    file = forms.FileField(
        label=_("文件"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = scope.projects_for(user)
        self.fields["file"].help_text = _("Excel（.xlsx）或 CSV 文件，最大 %(max)s MB。") % {
            "max": settings.ESTATES_IMPORT_MAX_BYTES // (1024 * 1024)
        }
