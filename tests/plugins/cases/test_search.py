"""Staff search over case descriptions through the segmented search column (plugins/cases/search.py,
ARCHITECTURE.md decision 11): the tokens, what a query finds, the database index (GIN on
PostgreSQL, FTS5 with triggers on SQLite) staying in step with the table, refresh and its
command, the migration's steps, and the admin's case list."""

import importlib
import re

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from plugins.cases import search
from plugins.cases.models import Case
from plugins.cases.queues import search_cases
from plugins.cases.search import matching, query_terms, refresh, words_for
from tests.conftest import staff_with_perms
from tests.factories import BuildingFactory, UnitFactory
from tests.plugins.cases.test_admin import LIST_URL, listed, numbers

MIGRATION = importlib.import_module("plugins.cases.migrations.0006_case_search")

CORPUS = {
    "leak": "卫生间天花板漏水",
    "kitchen": "厨房水管漏水，请尽快维修",
    "reversed": "漏水的卫生间",
    "bath_lock": "卫生间门锁坏了",
    "lock": "入户门锁坏了",
    "fee": "物业费用太高",
    "wifi": "3号楼 WiFi路由器坏了",
    "spilt": "水漏了一地",
}

#: What the post_migrate repair costs when all is in place: the migration recorder's table and
#: rows, then the index objects.
CHECKS = 3


def tokens(text):
    return words_for(text).split()


def found(queryset):
    return {case.description for case in queryset}


def described(*keys):
    return {CORPUS[key] for key in keys}


@pytest.fixture
def corpus(new_case):
    """One case per CORPUS entry, with search_words filled by refresh() (as for imported rows)."""
    cases = {key: new_case(description=text) for key, text in CORPUS.items()}
    refresh()
    return cases


def index_is_consistent():
    """SQLite: FTS5's integrity check against cases_case (raises when a change was missed).
    PostgreSQL: a generated column cannot drift; the check is that it is generated from
    search_words and indexed."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}, rank) VALUES ('integrity-check', 1)")
            return True
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [search.PG_INDEX])
        (definition,) = cursor.fetchone()
        cursor.execute(
            "SELECT generation_expression FROM information_schema.columns "
            "WHERE table_name = 'cases_case' AND column_name = %s", [search.PG_COLUMN])
        (expression,) = cursor.fetchone()
        return f"gin ({search.PG_COLUMN})" in definition and "to_tsvector('simple'::regconfig, search_words" in expression


def query_plan(queryset):
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return "\n".join(row[-1] for row in cursor.fetchall())
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


# --- Tokens ------------------------------------------------------------------------------------


def test_tokens_are_jieba_words_bigrams_and_the_last_character_of_each_run():
    assert tokens("卫生间天花板漏水") == [
        "卫生", "卫生间", "天花", "天花板", "漏水",  # jieba's search-mode words
        "生间", "间天", "花板", "板漏",  # the other bigrams
        "水",  # the run's last character, so that "水" finds it by prefix
    ]
    # No other single characters: "卫" is found as the start of "卫生".
    assert [t for t in tokens("卫生间天花板漏水，门") if len(t) == 1] == ["水", "门"]


def test_latin_and_digits_are_lower_cased_and_kept_apart_from_chinese():
    words = tokens("3号楼 WiFi路由器坏了 C++ 100%")
    assert {"3", "号楼", "wifi", "路由器", "坏了", "c", "100"} <= set(words)
    assert not {"3号楼", "WiFi", "wifi路由器"} & set(words)


def test_tokens_are_normalised_unique_and_empty_without_letters():
    assert words_for("３号楼ＷｉＦｉ") == words_for("3号楼WiFi")
    assert len(tokens("漏水漏水漏水")) == len(set(tokens("漏水漏水漏水")))
    assert words_for("！？。…… 🙂") == words_for("") == words_for(None) == ""
    assert "女士" in words_for("漏水", "王女士").split()  # extra texts are searchable too


def test_a_query_needs_every_bigram_or_every_jieba_word():
    assert query_terms("卫生间漏水") == [
        (("卫生", False), ("生间", False), ("间漏", False), ("漏水", False)),
        (("卫生", False), ("卫生间", False), ("漏水", False)),
    ]
    assert query_terms("门") == [(("门", True),)]  # a prefix
    assert query_terms("坏了") == [(("坏了", False),)]  # jieba's 坏 + 了 alone would find too much
    assert query_terms("！？ 🙂") == []


def test_each_token_is_one_term_of_the_database_index(db):
    """The database's own tokenizer must not split or join what words_for wrote: PostgreSQL's
    'simple' parser would keep "3号楼" or "漏水abc" as one lexeme, and case folding differs."""
    text = "3号楼2单元1502室 WiFi路由器坏了，漏水abc！Ｃ＋＋ café 〇"
    expected = set(tokens(text))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tsvector_to_array(to_tsvector('simple'::regconfig, %s))", [words_for(text)])
            terms = set(cursor.fetchone()[0])
        else:
            cursor.execute("CREATE VIRTUAL TABLE temp.case_terms USING fts5vocab(main, cases_case_search, row)")
            cursor.execute("INSERT INTO cases_case_search(rowid, search_words) VALUES (-1, %s)", [words_for(text)])
            cursor.execute("SELECT term FROM temp.case_terms")
            terms = {row[0] for row in cursor.fetchall()}
            cursor.execute("INSERT INTO cases_case_search(cases_case_search, rowid, search_words) "
                           "VALUES ('delete', -1, %s)", [words_for(text)])
            cursor.execute("DROP TABLE temp.case_terms")
    assert terms == expected


# --- What a query finds ------------------------------------------------------------------------


@pytest.mark.parametrize("query, expected", [
    ("漏水", {"leak", "kitchen", "reversed"}),  # not 水漏了
    ("卫生间漏水", {"leak", "reversed"}),  # not the kitchen's leak nor the bathroom's lock
    ("卫生间 门锁", {"bath_lock"}),  # every word: not "lock" (no 卫生间) nor "leak" (no 门锁)
    ("门锁", {"bath_lock", "lock"}),
    ("物业费", {"fee"}),  # jieba cut the description 物业/费用: the bigrams find it
    ("水", {"leak", "kitchen", "reversed", "spilt"}),  # 水 at the end of a run too
    ("间", {"leak", "reversed", "bath_lock"}),
    ("WIFI", {"wifi"}),
    ("ｗｉｆｉ 路由", {"wifi"}),
    ("3号楼", {"wifi"}),
    ("路由器wifi", {"wifi"}),
    ("漏水abc", set()),
    ("电梯", set()),
    ("！？", set()),
])
def test_matching(corpus, query, expected):
    assert found(matching(Case.objects.all(), query)) == described(*expected), query


def test_matching_keeps_the_queryset_filters(corpus, other_project, new_case):
    assert found(matching(Case.objects.filter(project=other_project), "漏水")) == set()
    assert found(matching(Case.objects.exclude(pk=corpus["leak"].pk), "卫生间漏水")) == described("reversed")


def test_search_cases_finds_words_or_the_exact_reporter_name(corpus, new_case):
    named = new_case(description="阳台门关不上", reporter_name="漏水")
    refresh()
    assert found(search_cases(Case.objects.all(), "漏水")) == described("leak", "kitchen", "reversed") | {
        named.description
    }
    assert found(search_cases(Case.objects.all(), "王女士")) == set(CORPUS.values())
    assert found(search_cases(Case.objects.all(), "！？")) == set()
    assert search_cases(Case.objects.all(), "  ").count() == len(CORPUS) + 1


def test_search_cases_uses_the_indexes(corpus):
    if connection.vendor == "postgresql":
        # A few rows are cheaper to scan; with scans priced out, the plan shows the planner can
        # use both indexes, i.e. the query's expressions are the indexes' own.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
    plan = query_plan(search_cases(Case.objects.order_by(), "卫生间漏水"))
    if connection.vendor == "sqlite":
        assert f"{search.FTS_TABLE} VIRTUAL TABLE INDEX" in plan, plan
        assert "USING INDEX case_reporter_name" in plan, plan
        assert not re.search(r"^SCAN cases_case( |$)", plan, re.M), plan  # no walk over all cases
    else:
        assert "BitmapOr" in plan and "Bitmap Index Scan on case_reporter_name" in plan, plan
        assert f"Bitmap Index Scan on {search.PG_INDEX}" in plan, plan


@pytest.mark.postgres
@pytest.mark.parametrize("query", ["卫生间漏水", "门", "wifi 3号楼"])
def test_postgresql_answers_words_and_prefixes_from_the_gin_index(corpus, query):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = query_plan(matching(Case.objects.order_by(), query).values("pk"))
    assert f"Bitmap Index Scan on {search.PG_INDEX}" in plan, plan
    assert found(matching(Case.objects.all(), query))


@pytest.mark.postgres
def test_postgresql_keeps_chinese_runs_as_one_lexeme(db):
    """Why words_for cuts: this database's 'simple' parser does not split Chinese text."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tsvector_to_array(to_tsvector('simple'::regconfig, '卫生间漏水 3号楼'))")
        assert sorted(cursor.fetchone()[0]) == sorted(["卫生间漏水", "3号楼"])


# --- The index stays in step with the table ----------------------------------------------------


def bare_case(project, number, description, **fields):
    return Case(number=number, kind="repair", channel="hotline", project=project, reporter_name="王",
                reporter_mobile="13800138000", description=description, search_words=words_for(description), **fields)


def test_rows_written_around_the_orm_are_indexed(project):
    Case.objects.bulk_create([bare_case(project, "BX20261124-0001", "阳台漏水"),
                              bare_case(project, "BX20261124-0002", "电梯异响")])
    assert found(matching(Case.objects.all(), "漏水")) == {"阳台漏水"}
    case = Case.objects.get(number="BX20261124-0001")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_case SET description = %s, search_words = %s WHERE id = %s",
                       ["阳台门窗渗水", words_for("阳台门窗渗水"), case.pk])
    assert found(matching(Case.objects.all(), "漏水")) == set()
    assert found(matching(Case.objects.all(), "渗水")) == {"阳台门窗渗水"}
    Case.objects.filter(number="BX20261124-0002").update(search_words=words_for("电梯困人"))
    assert found(matching(Case.objects.all(), "困人")) == {"电梯异响"}  # the column, not the description
    # An importer's upsert: INSERT … ON CONFLICT DO UPDATE fires the update trigger.
    Case.objects.bulk_create([bare_case(project, "BX20261124-0002", "电梯门关不上")], update_conflicts=True,
                             unique_fields=["number"], update_fields=["description", "search_words"])
    assert found(matching(Case.objects.all(), "困人")) == set()
    assert found(matching(Case.objects.all(), "关不上")) == {"电梯门关不上"}
    assert index_is_consistent()
    Case.objects.filter(pk=case.pk).delete()
    assert found(matching(Case.objects.all(), "渗水")) == set()
    assert index_is_consistent()


def test_a_save_that_keeps_the_words_keeps_the_index(corpus):
    case = Case.objects.get(pk=corpus["leak"].pk)
    case.reporter_name = "李先生"
    case.save()
    assert found(matching(Case.objects.all(), "天花板")) == described("leak")
    assert index_is_consistent()


# --- refresh, its command and the migration ----------------------------------------------------


def test_refresh_writes_in_batches_only_what_changed(new_case, django_assert_num_queries):
    cases = [new_case(description=f"{n}号楼卫生间漏水") for n in range(5)]
    Case.objects.update(search_words="")
    with django_assert_num_queries(3 + 3):  # reads of 2, 2 and 1 rows; a bulk update each
        assert refresh(batch_size=2) == 5
    assert found(matching(Case.objects.all(), "卫生间漏水")) == {case.description for case in cases}
    with django_assert_num_queries(1):
        assert refresh() == 0
    Case.objects.filter(pk=cases[0].pk).update(description="门锁坏了")
    assert refresh(Case.objects.filter(pk__in=[cases[0].pk, cases[1].pk])) == 1
    assert found(matching(Case.objects.all(), "门锁")) == {"门锁坏了"}
    assert index_is_consistent()


def test_reindex_command(new_case, capsys):
    new_case(description="地下车库积水")
    Case.objects.update(search_words="")
    call_command("reindex_case_search", batch_size=1)
    assert "已更新 1 张工单的检索词" in capsys.readouterr().out
    assert found(matching(Case.objects.all(), "积水")) == {"地下车库积水"}
    assert index_is_consistent()


def test_the_command_refuses_a_batch_of_zero(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("reindex_case_search", batch_size=0)


class Editor:
    """What the migration's functions use of a schema editor."""

    def __init__(self, conn):
        self.connection = conn


def test_the_migration_fills_existing_rows_and_reverses(new_case):
    new_case(description="外墙渗水")
    Case.objects.update(search_words="")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Index DDL refuses to run while this test's inserts still owe deferred FK checks;
            # a migration runs in a transaction of its own.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    MIGRATION.fill(apps, Editor(connection))
    assert Case.objects.get().search_words == words_for("外墙渗水")
    MIGRATION.uninstall(apps, Editor(connection))
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE %s", [f"{search.FTS_TABLE}%"])
        else:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname = %s", [search.PG_INDEX])
        assert cursor.fetchall() == []
    MIGRATION.install(apps, Editor(connection))
    assert found(matching(Case.objects.all(), "渗水")) == {"外墙渗水"}
    assert index_is_consistent()


@pytest.mark.django_db(transaction=True)
def test_install_restores_what_a_table_rebuild_dropped():
    """On SQLite, Django rebuilds cases_case for many migrations (AlterField, AddField with a
    default): the copy drops the FTS triggers. The post_migrate repair puts them back and
    re-reads the table; on PostgreSQL the expression index survives and nothing is missing."""
    from django.db.migrations.executor import MigrationExecutor

    from plugins.cases.defaults import create_all
    from tests.factories import ProjectFactory

    create_all(apps)  # the flush of a transactional test removed the shipped defaults
    project = ProjectFactory()
    Case.objects.bulk_create([bare_case(project, "BX20261124-0001", "阳台漏水")])
    # The model as a later migration sees it (with the indexes only migrations declare).
    migrated = MigrationExecutor(connection).loader.project_state().apps.get_model("cases", "Case")
    old_field = migrated._meta.get_field("reporter_name")
    new_field = old_field.clone()
    new_field.max_length = 60
    new_field.set_attributes_from_name("reporter_name")
    try:
        with connection.schema_editor() as editor:
            editor.alter_field(migrated, old_field, new_field)
        Case.objects.bulk_create([bare_case(project, "BX20261124-0002", "厨房漏水")])
        missed = {"厨房漏水"} - found(matching(Case.objects.all(), "漏水"))
        assert missed == ({"厨房漏水"} if connection.vendor == "sqlite" else set())
        if connection.vendor == "sqlite":
            with pytest.raises(DatabaseError):
                index_is_consistent()
        with CaptureQueriesContext(connection) as captured:
            search.repair_after_migrate(sender=apps.get_app_config("cases"), using=connection.alias)
        # SQLite: triggers created and the table re-read; PostgreSQL: only the checks.
        assert len(captured) > CHECKS if connection.vendor == "sqlite" else len(captured) == CHECKS
        assert found(matching(Case.objects.all(), "漏水")) == {"阳台漏水", "厨房漏水"}
        Case.objects.filter(number="BX20261124-0001").delete()
        assert found(matching(Case.objects.all(), "漏水")) == {"厨房漏水"}
        assert index_is_consistent()
    finally:
        with connection.schema_editor() as editor:
            editor.alter_field(migrated, new_field, old_field)
        search.install(connection)


def test_the_repair_leaves_a_database_before_0006_alone(db, monkeypatch):
    from django.db.migrations.recorder import MigrationRecorder

    search.uninstall(connection)
    monkeypatch.setattr(MigrationRecorder, "applied_migrations", lambda self: {("cases", "0005_roles"): None})
    search.repair_after_migrate(using=connection.alias)
    assert search.install(connection) is True  # it was still missing
    monkeypatch.undo()
    with CaptureQueriesContext(connection) as captured:
        search.repair_after_migrate(using=connection.alias)
    assert len(captured) == CHECKS  # nothing to do


# --- The admin's case list ---------------------------------------------------------------------


@pytest.mark.parametrize("extra", [0, 40])
def test_the_case_list_searches_words_within_scope(client, agent, corpus, new_case, other_project, extra,
                                                   django_assert_max_num_queries):
    far = UnitFactory(building=BuildingFactory(project=other_project, code="9"))
    Case.objects.bulk_create([bare_case(other_project, "BX20261124-9001", "卫生间漏水", unit=far)])
    elsewhere = Case.objects.get(number="BX20261124-9001")
    for n in range(extra):
        new_case(description=f"{n}号车位灯不亮")
    refresh()
    client.force_login(agent)
    with django_assert_max_num_queries(15):
        response = client.get(LIST_URL, {"q": "卫生间漏水"})
    assert listed(response) == numbers(corpus["leak"], corpus["reversed"])  # not the other project's
    lamps = Case.objects.filter(description__contains="灯不亮")
    assert listed(client.get(LIST_URL, {"q": "灯不亮", "per_page": "100"})) == numbers(*lamps)
    client.force_login(staff_with_perms("cases.view_case", all_projects=True, username="everywhere"))
    assert listed(client.get(LIST_URL, {"q": "卫生间漏水"})) == numbers(corpus["leak"], corpus["reversed"], elsewhere)
    assert listed(client.get(LIST_URL, {"q": "门"})) == numbers(corpus["bath_lock"], corpus["lock"])


def test_the_list_query_count_does_not_grow_with_the_matches(client, agent, new_case):
    client.force_login(agent)

    def queries(count):
        for _ in range(count):
            new_case(description="卫生间漏水")
        refresh()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(LIST_URL, {"q": "漏水"})
        assert len(response.context["object_list"]) == Case.objects.count()
        return len(captured)

    assert queries(2) == queries(15)


def test_a_search_with_many_matches_lists_and_counts_the_same_cases(client, agent, new_case, monkeypatch):
    # Above MANY_MATCHES SQLite reads the page in the list's order and tests each case against
    # the matches; the count keeps the indexed form. Same cases, same order, same count.
    leaks = [new_case(description=f"卫生间漏水 第{n}次") for n in range(5)]
    named = new_case(description="门锁坏了", reporter_name="漏水")  # matched by the exact name
    new_case(description="门锁坏了")
    client.force_login(agent)
    before = client.get(LIST_URL, {"q": "漏水", "per_page": "20"})
    monkeypatch.setattr(search, "MANY_MATCHES", 2)
    with CaptureQueriesContext(connection) as captured:
        after = client.get(LIST_URL, {"q": "漏水"})
    expected = [case.number for case in sorted([*leaks, named], key=lambda c: (c.registered_at, c.pk), reverse=True)]
    assert [case.number for case in after.context["object_list"]] == expected
    assert [case.number for case in before.context["object_list"]] == expected
    assert after.context["paginator"].count == before.context["paginator"].count == 6
    if connection.vendor == "sqlite":
        page = [q["sql"] for q in captured.captured_queries if "ORDER BY" in q["sql"] and "cases_case_search" in q["sql"]]
        assert page and '+"cases_case"."id" IN' in page[0]
    monkeypatch.setattr(search, "MANY_MATCHES", 100)
    assert [case.number for case in client.get(LIST_URL, {"q": "漏水"}).context["object_list"]] == expected


def test_a_search_works_as_a_subquery(corpus):
    # Inside another query the cases table is aliased ("U0"); the condition follows the alias.
    searched = search_cases(Case.objects.all(), "卫生间漏水").values("pk")
    outer = Case.objects.filter(pk__in=searched)
    assert numbers(*outer) == numbers(corpus["leak"], corpus["reversed"])
