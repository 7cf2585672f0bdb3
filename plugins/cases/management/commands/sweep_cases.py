"""manage.py sweep_cases [--batch-size N] [--every SECONDS]

All time-based work of the case desk: reminders before a clock falls due, breaches, and the
three escalation levels, each exactly once; then the daily complaint digest (publishing it once
its time of day has passed, chasing unread readers once the delay has passed). Safe to run every
minute from cron or a systemd timer; a second run at the same moment changes nothing. The work
is plugins.cases.clocks.sweep and plugins.cases.digest.due_work.
"""

import logging
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from plugins.cases import clocks, digest

logger = logging.getLogger(__name__)


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
            self.stdout.write(result.summary() + self._digest_work())
            if every is None:
                return
            time.sleep(every)

    def _digest_work(self):
        """The digest's part, appended to the one-line summary when it did something. A failure
        here is logged and never stops the clock sweep (nor the --every loop)."""
        try:
            work = digest.due_work()
        except Exception:
            logger.exception("The daily complaint digest failed in sweep_cases")
            self.stderr.write(_("每日投诉简报处理失败，详见日志；时限巡检不受影响。"))
            return ""
        return " " + work.summary() if work else ""
