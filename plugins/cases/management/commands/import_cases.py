"""manage.py import_cases FILE [--dry-run] [--user USERNAME]

Imports historic cases from an .xlsx file with the same checks as the admin's import page, in
one transaction: any error, nothing written, non-zero exit. With --user, the events and history
name that user, who needs cases.add_case and may import only cases of the projects they serve;
without it the system is the actor and every project is open.
"""

import time

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from estates.importing.reader import FileRejected
from plugins.cases.importing import run as case_import
from plugins.cases.importing.schema import CASE_KIND


class Command(BaseCommand):
    help = "从 Excel（.xlsx）文件导入历史工单：逐行校验，全部无误才一次性写入。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="要导入的 .xlsx 文件")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入数据库")
        parser.add_argument("--user", help="记为导入人的用户名（写入处理记录和修改历史，并按其负责的项目限制）")

    def handle(self, *args, **options):
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(_("用户“%(name)s”不存在。") % {"name": options["user"]})
            if not user.has_perms(CASE_KIND.permissions):
                raise CommandError(_("用户“%(name)s”没有登记工单的权限，不能导入工单。") % {"name": options["user"]})
        started = time.monotonic()
        try:
            with open(options["file"], "rb") as fileobj:
                upload = File(fileobj, name=options["file"])
                case_import.check_upload(upload)
                run = case_import.import_cases(upload, options["file"], user=user, dry_run=options["dry_run"])
        except OSError as error:
            raise CommandError(_("无法读取文件：%(error)s") % {"error": error.strerror or error}) from None
        except FileRejected as error:
            raise CommandError(error.message) from None
        self.stdout.write("\n".join(run.report.lines()))
        if not run.report.ok:
            raise CommandError(_("共 %(n)s 个错误，未导入任何数据。") % {"n": run.report.error_count})
        done = _("已导入 %(n)s 条历史工单，用时 %(s).1f 秒。")
        if options["dry_run"]:
            done = _("校验通过（试运行，未写入数据库），用时 %(s).1f 秒。")
        self.stdout.write(self.style.SUCCESS(done % {"n": run.written, "s": time.monotonic() - started}))
