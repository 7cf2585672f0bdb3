from django.contrib.auth.models import AbstractUser
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A staff member. Owners are not users (ARCHITECTURE.md decision 4)."""

    class Meta(AbstractUser.Meta):
        verbose_name = _("员工账号")
        verbose_name_plural = _("员工账号")
        swappable = "AUTH_USER_MODEL"
