"""Deliver due outbox messages: retries and SMS held over quiet hours. Idempotent; run it every
minute from cron or a systemd timer, next to sweep_cases (or keep it running with --every)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from notifications import services


class Command(BaseCommand):
    help = "发送到期的待发通知（失败重试、免打扰时段后发出的短信）。可由 cron 或 systemd 定时器每分钟运行。"

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500, help="每次最多尝试发送的条数")
        parser.add_argument("--every", type=int, metavar="SECONDS", help="不退出，每隔这么多秒运行一次")

    def handle(self, *args, limit, every, **options):
        if limit < 1 or (every is not None and every < 1):
            raise CommandError(_("数量和间隔必须是正整数。"))
        while True:
            outcomes = services.deliver_pending(limit)
            summary = "，".join(f"{name} {count}" for name, count in sorted(outcomes.items()))
            self.stdout.write(summary or _("没有到期的通知"))
            if every is None:
                return
            time.sleep(every)
