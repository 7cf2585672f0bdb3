"""PostgreSQL: the case search reads a stored generated column, search_vector =
to_tsvector('simple', search_words), under a GIN index, instead of a GIN index on that
expression (plugins/cases/search.py says why). Adding the column rewrites cases_case once:
about a minute per million cases. SQLite: nothing changes.

Not atomic, like 0006: the steps are idempotent, and a re-run after an interruption goes on.
"""

from django.db import migrations


def install(apps, schema_editor):
    from plugins.cases.search import install

    if schema_editor.connection.vendor == "postgresql":
        install(schema_editor.connection)


def back_to_the_expression_index(apps, schema_editor):
    from plugins.cases import search

    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {search.PG_OLD_INDEX} ON cases_case "
            "USING gin (to_tsvector('simple'::regconfig, search_words))"
        )
    search.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("cases", "0008_list_indexes_more")]

    operations = [migrations.RunPython(install, back_to_the_expression_index)]
