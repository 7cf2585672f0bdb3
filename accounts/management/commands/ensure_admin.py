"""Make sure an administrator login exists and say what it is (used by `make run`)."""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from estates.models import StaffProfile


class Command(BaseCommand):
    help = (
        "Create the administrator account if missing. ANJU_ADMIN_USERNAME and "
        "ANJU_ADMIN_PASSWORD set it explicitly; otherwise a random password is generated once "
        "and kept in data/admin-login.txt."
    )

    def handle(self, *args, **options):
        username = os.environ.get("ANJU_ADMIN_USERNAME", "admin").strip() or "admin"
        password = os.environ.get("ANJU_ADMIN_PASSWORD", "")
        saved = settings.DATA_DIR / "admin-login.txt"
        User = get_user_model()

        with transaction.atomic():
            user = User.objects.filter(username=username).first()
            if user is None:
                if not password:
                    password = secrets.token_urlsafe(12)
                    saved.parent.mkdir(parents=True, exist_ok=True)
                    saved.write_text(f"{username}\n{password}\n", encoding="utf-8")
                    saved.chmod(0o600)
                user = User.objects.create_superuser(username=username, email="", password=password)
                StaffProfile.objects.get_or_create(user=user, defaults={"all_projects": True})
                self.stdout.write(f"已创建管理员账号 / admin created: {username} / {password}")
                return
            if not (user.is_superuser and user.is_active):
                raise CommandError(
                    f"用户 {username} 已存在但不是启用的超级管理员 / user exists but is not an active superuser"
                )
            if password:
                if not user.check_password(password):
                    user.set_password(password)
                    user.save(update_fields=["password"])
                self.stdout.write(f"管理员账号 / admin: {username} / {password}")
            elif saved.exists():
                name, _, remembered = saved.read_text(encoding="utf-8").partition("\n")
                if name.strip() == username and user.check_password(remembered.strip()):
                    self.stdout.write(f"管理员账号 / admin: {username} / {remembered.strip()}")
                    return
                self.stdout.write(f"管理员账号 / admin: {username}（密码已被修改 / password was changed）")
            else:
                self.stdout.write(f"管理员账号 / admin: {username}（密码未变 / password unchanged）")
