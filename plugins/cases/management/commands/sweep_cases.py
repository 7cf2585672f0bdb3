"""manage.py sweep_cases [--batch-size N] [--every SECONDS]

All time-based work of the case desk: reminders before a clock falls due, breaches, and the
three escalation levels, each exactly once. Safe to run every minute from cron or a systemd
timer; a second run at the same moment changes nothing. The work is plugins.cases.clocks.sweep.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from plugins.cases import clocks


class Command(BaseCommand):
    help = "处理工单时限：到点提醒、记录超时、逐级升级（每项只做一次）。可由 cron 或 systemd 定时器每分钟运行。"

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, help="每批处理的时限数（默认取插件设置，500）")
        parser.add_argument(
            "--every", type=int, metavar="SECONDS",
            help="不退出，每隔这么多秒运行一次（开发时由 make run 启动；生产用 cron 或 systemd 定时器）",
        )

    def handle(self, *args, **options):
        batch_size = options["batch_size"]
        if batch_size is not None and batch_size < 1:
            raise CommandError(_("每批数量必须是正整数。"))
        every = options["every"]
        if every is not None and every < 1:
            raise CommandError(_("间隔必须是正整数（秒）。"))
        while True:
            result = clocks.sweep(batch_size=batch_size)
            self.stdout.write(result.summary())
            if every is None:
                return
            time.sleep(every)
