"""Staff search over case descriptions without a table scan (ARCHITECTURE.md decision 11):
fill Case.search_words for existing rows, then index it — a GIN expression index on
to_tsvector('simple', search_words) on PostgreSQL, an FTS5 table with triggers on SQLite (see
plugins/cases/search.py). The index is built after the fill: cheaper than maintaining it row by
row. Also an index on reporter_name, the search's exact-name alternative: without it the OR of
the two conditions would scan the table.

Not atomic: on a large table the fill takes minutes (about 2 at 200,000 cases on PostgreSQL),
and one transaction would hold a lock on every case row until the end. Each batch commits on
its own; a run that stops half-way is taken up again by the next (rows already filled are
skipped, the index steps are idempotent).

Reversing drops the index objects; search_words keeps its contents (0004 owns the column).
"""

from django.db import migrations, models


def fill(apps, schema_editor):
    from plugins.cases.search import refresh

    refresh(apps.get_model("cases", "Case").objects.using(schema_editor.connection.alias).all())


def install(apps, schema_editor):
    from plugins.cases.search import install

    if schema_editor.connection.vendor in ("postgresql", "sqlite"):
        install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from plugins.cases.search import uninstall

    uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("cases", "0005_roles")]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(install, uninstall),
        # IF NOT EXISTS, like the steps above, so that a re-run after an interruption goes through.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "CREATE INDEX IF NOT EXISTS case_reporter_name ON cases_case (reporter_name)",
                    "DROP INDEX IF EXISTS case_reporter_name",
                ),
            ],
            state_operations=[
                migrations.AddIndex(
                    model_name="case",
                    index=models.Index(fields=["reporter_name"], name="case_reporter_name"),
                ),
            ],
        ),
    ]
