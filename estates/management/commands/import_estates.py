"""manage.py import_estates FILE --project CODE [--dry-run] [--user USERNAME]

Imports units, owners and contractors from an .xlsx or .csv file with the same engine as the
admin's import page, in one pass and one transaction. Exits non-zero on any error.
"""

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from estates.importing import jobs, reader
from estates.models import Project


class Command(BaseCommand):
    help = "从 Excel（.xlsx）或 CSV 文件导入房号、业主和施工单位到一个项目。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="要导入的 .xlsx 或 .csv 文件")
        parser.add_argument("--project", required=True, help="项目编码")
        parser.add_argument("--dry-run", action="store_true", help="只校验并统计，不写入数据库")
        parser.add_argument("--user", help="记为导入人的用户名（写入修改历史）")

    def handle(self, *args, **options):
        project = Project.objects.filter(code=options["project"]).first()
        if project is None:
            raise CommandError(_("项目编码“%(code)s”不存在。") % {"code": options["project"]})
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(_("用户“%(name)s”不存在。") % {"name": options["user"]})
        started = time.monotonic()
        try:
            with open(options["file"], "rb") as fileobj:
                report, job = jobs.import_file(
                    fileobj, options["file"], project, user=user, dry_run=options["dry_run"]
                )
        except OSError as error:
            raise CommandError(_("无法读取文件：%(error)s") % {"error": error.strerror or error}) from None
        except reader.FileRejected as error:
            raise CommandError(error.message) from None
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(_("共 %(n)s 个错误，未导入任何数据。") % {"n": report.error_count})
        seconds = time.monotonic() - started
        if options["dry_run"]:
            self.stdout.write(_("校验通过（试运行，未写入数据库），用时 %(s).1f 秒。") % {"s": seconds})
        else:
            self.stdout.write(
                self.style.SUCCESS(_("导入完成：导入记录 #%(id)s，用时 %(s).1f 秒。") % {"id": job.pk, "s": seconds})
            )
