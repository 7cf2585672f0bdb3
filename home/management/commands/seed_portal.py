"""`manage.py seed_portal`: the portal's demo pages, images, FAQs and adverse factors (repeatable)."""

from django.core.management.base import BaseCommand

from home.demo import seed_portal


class Command(BaseCommand):
    help = "生成门户演示内容：栏目页、项目主页、工程进展、开放日、常见问题和不利因素（可重复运行）。"

    def handle(self, *args, **options):
        seed_portal(stdout=self.stdout if options["verbosity"] >= 1 else None)
