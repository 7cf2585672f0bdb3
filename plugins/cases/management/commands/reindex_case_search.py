"""manage.py reindex_case_search [--batch-size N]

Recomputes Case.search_words for every case (imported or older rows, or after the tokenizer
changed) and makes sure the database's search index exists: on SQLite it restores the FTS
triggers a table rebuild by a migration drops, and re-reads the FTS table from cases_case.
Then refreshes the planner's statistics (ANALYZE), which SQLite needs to search through the
index rather than through a project's cases. Safe to run again; rows whose words are current
are not written. The work is plugins.cases.search.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext as _

from plugins.cases import search
from plugins.cases.models import Case


class Command(BaseCommand):
    help = "重建工单全文检索：重新计算每张工单的检索词，并确保数据库检索索引存在且完整。可重复运行。"

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000, help="每批处理的工单数（默认 2000）")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="数据库别名（默认 default）")

    def handle(self, *args, **options):
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError(_("每批数量必须是正整数。"))
        connection = connections[options["database"]]
        installed = search.install(connection)
        written = search.refresh(Case.objects.using(connection.alias).all(), batch_size=batch_size)
        if not installed:
            # Cheap insurance on SQLite: the FTS table re-read from cases_case.
            search.rebuild(connection)
        search.analyze(connection)
        self.stdout.write(_("已更新 %(count)s 张工单的检索词。") % {"count": written})
