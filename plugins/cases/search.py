"""Staff full-text search over case descriptions that does not scan the table (ARCHITECTURE.md
decision 11).

``Case.search_words`` holds the description cut into tokens (``words_for``), written by Python
with the description. The database indexes that column:

* PostgreSQL: a stored generated column ``search_vector`` =
  ``to_tsvector('simple'::regconfig, search_words)`` (not a model field: Django never writes it)
  under a GIN index; ``matching`` filters on that column. Stored, not an expression index: a
  list that walks its own order and tests each case (a common word, newest first) would
  otherwise compute to_tsvector for every row it reads — 80 ms for 100 rows of "漏水" at 1M
  cases. The 'simple' parser keeps a run of Chinese characters together with adjoining letters
  and digits ("漏水abc", "3号楼" are one lexeme each), so every stored token is either all CJK
  or all other letters and digits.
* SQLite: an FTS5 table with external content (``cases_case`` itself, rowid = case id), kept in
  step by triggers on insert, update and delete, so rows written by raw SQL or ``bulk_create``
  are indexed too; ``matching`` asks it with MATCH.

Tokens stored per case: jieba's search-mode words of two or more characters, every pair of
adjacent Chinese characters (bigram), the last character of each Chinese run, and the other
letters and digits lower-cased. Queries:

* A run of two or more Chinese characters needs all its bigrams: every substring is found,
  whatever jieba made of its context ("物业费" finds "物业费用", which jieba cuts 物业/费用).
* Or, as an alternative, all of jieba's words of the query, so word order need not match
  ("卫生间漏水" finds "漏水的卫生间"); used only when jieba finds a word of two or more characters.
* A lone Chinese character is a prefix match: every character of a description starts some
  token (a bigram, or the run's last character), so "水" finds each case containing 水,
  through the index. No unigrams are stored for that.
* A query with no letters or digits ("！？", emoji) matches nothing.

The index objects are created by migration 0006 through ``install``; ``install`` is idempotent
and also repairs SQLite's triggers, which Django drops whenever a migration rebuilds
``cases_case`` on SQLite (``AlterField``, ``AddField`` with a default, …): connect
``repair_after_migrate`` to post_migrate, or run ``reindex_case_search``.
"""

from django.db import DEFAULT_DB_ALIAS, NotSupportedError, connections
from django.db.models import BooleanField, F, Func, Q, Value
from django.db.models.expressions import RawSQL

from search import segment

#: PostgreSQL: the generated tsvector column and its GIN index (and the expression index on
#: search_words they replaced, dropped by ``install``).
PG_COLUMN = "search_vector"
PG_INDEX = "case_search_vector_gin"
PG_OLD_INDEX = "case_search_words_gin"
#: SQLite: the FTS5 table over cases_case.search_words, and its triggers.
FTS_TABLE = "cases_case_search"
FTS_TRIGGERS = {
    f"{FTS_TABLE}_insert": f"""
        CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert AFTER INSERT ON cases_case BEGIN
            INSERT INTO {FTS_TABLE}(rowid, search_words) VALUES (new.id, new.search_words);
        END""",
    f"{FTS_TABLE}_delete": f"""
        CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON cases_case BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_words)
            VALUES ('delete', old.id, old.search_words);
        END""",
    # Every save() writes every column: re-index only when the words changed.
    f"{FTS_TABLE}_update": f"""
        CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update AFTER UPDATE OF id, search_words ON cases_case
        WHEN old.id IS NOT new.id OR old.search_words IS NOT new.search_words BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_words)
            VALUES ('delete', old.id, old.search_words);
            INSERT INTO {FTS_TABLE}(rowid, search_words) VALUES (new.id, new.search_words);
        END""",
}


# --- Tokens ------------------------------------------------------------------------------------


def _unique(items):
    return list(dict.fromkeys(items))


def words_for(description, *extra):
    """The space-separated tokens stored in ``Case.search_words`` for ``description`` (and any
    ``extra`` texts): see the module's docstring."""
    text = segment.normalize(" ".join(str(part) for part in (description, *extra) if part))
    if not text:
        return ""
    tokens = []
    for word in segment.words(text):
        # Single characters are covered by the prefix match; latin comes from the pieces below.
        tokens.extend(p for p in segment.script_pieces(word) if segment.is_cjk(p) and len(p) > 1)
    for piece in segment.script_pieces(text):
        if segment.is_cjk(piece):
            tokens.extend(segment.bigrams(piece))
            tokens.append(piece[-1])
        else:
            tokens.append(piece.lower())
    return " ".join(_unique(tokens))


def query_terms(text):
    """The alternatives a query matches, each a tuple of (token, is_prefix) that a case must
    all have; [] when the query has no letters or digits."""
    text = segment.normalize(text)[: segment.MAX_QUERY_LENGTH]
    pieces = segment.script_pieces(text)
    grams = []
    for piece in pieces:
        if not segment.is_cjk(piece):
            grams.append((piece.lower(), False))
        elif len(piece) == 1:
            grams.append((piece, True))
        else:
            grams.extend((gram, False) for gram in segment.bigrams(piece))
    branches = [tuple(_unique(grams))] if grams else []
    words = [p for word in segment.words(text) for p in segment.script_pieces(word) if segment.is_cjk(p)]
    if any(len(word) > 1 for word in words):
        latin = [(piece.lower(), False) for piece in pieces if not segment.is_cjk(piece)]
        branch = tuple(_unique([*((w, len(w) == 1) for w in words), *latin]))
        if set(branch) != set(branches[0]):
            branches.append(branch)
    return branches


def _pg_tsquery(branches):
    """to_tsquery syntax: ('a' & 'b':*) | ('c' & 'd')."""

    def term(token, prefix):
        quoted = "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"
        return quoted + ":*" if prefix else quoted

    return " | ".join("(" + " & ".join(term(*t) for t in branch) + ")" for branch in branches)


def _fts5_query(branches):
    """FTS5 syntax: ("a" AND "b"*) OR ("c" AND "d"); quoted, so no token is read as an operator."""

    def term(token, prefix):
        quoted = '"' + token.replace('"', '""') + '"'
        return quoted + "*" if prefix else quoted

    return " OR ".join("(" + " AND ".join(term(*t) for t in branch) + ")" for branch in branches)


# --- Queries -----------------------------------------------------------------------------------


class _TextMatch(Func):
    """search_vector @@ to_tsquery('simple'::regconfig, %s). ``search_words`` is compiled for its
    table alias (a subquery's "U0"), then the generated column beside it is named instead."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        column, query = self.get_source_expressions()
        column_sql, column_params = compiler.compile(column)
        vector_sql = column_sql[: column_sql.rindex('"search_words"')] + connection.ops.quote_name(PG_COLUMN)
        query_sql, query_params = compiler.compile(query)
        return f"{vector_sql} @@ to_tsquery('simple'::regconfig, {query_sql})", (*column_params, *query_params)


#: Above this many matching cases a page of the list reads best in the list's own order, testing
#: each case against the matches (``scanning``); below it, by fetching the matches and sorting.
MANY_MATCHES = 2000


def condition(text, using=DEFAULT_DB_ALIAS, *, scanning=False):
    """A Q for the cases whose search_words match ``text`` (served by the index), or None when
    ``text`` has no tokens. ``scanning``: for a page of a list with more than MANY_MATCHES
    matches; only SQLite asks differently then."""
    branches = query_terms(text)
    if not branches:
        return None
    vendor = connections[using].vendor
    if vendor == "postgresql":
        return Q(_TextMatch(F("search_words"), Value(_pg_tsquery(branches))))
    if vendor == "sqlite":
        sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
        params = (_fts5_query(branches),)
        if scanning:
            # SQLite otherwise fetches every match through the FTS index and sorts them all
            # (24,000 matches of "漏水" at 1M cases: 140 ms); the unary + keeps it from using that
            # index for this term, so it walks the list's order and stops at the page (4 ms).
            return Q(RawSQL(f'+"cases_case"."id" IN ({sql})', params, output_field=BooleanField()))
        return Q(pk__in=RawSQL(sql, params))
    raise NotSupportedError(f"Case search supports PostgreSQL and SQLite, not {vendor}.")


def count_with_matches(queryset, text, cap):
    """(the cases of ``queryset``, at most ``cap + 1``; on SQLite, whether ``text`` matches more
    than MANY_MATCHES cases of the whole table, else None) in one query. The second answer
    chooses how to read a page of a search (``scanning``): a list narrowed to a few hundred
    matches may still draw them from tens of thousands."""
    ids = queryset.order_by().values("pk")[: cap + 1]
    connection = connections[queryset.db]
    branches = query_terms(text)
    if connection.vendor != "sqlite" or not branches:
        return ids.count(), None
    sql, params = ids.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM ({sql})), (SELECT COUNT(*) FROM (SELECT rowid FROM {FTS_TABLE} "
            f"WHERE {FTS_TABLE} MATCH %s LIMIT %s))",
            (*params, _fts5_query(branches), MANY_MATCHES + 1),
        )
        count, matches = cursor.fetchone()
    return count, matches > MANY_MATCHES


def matching(queryset, text):
    """``queryset`` narrowed to the cases whose search_words hold every token of ``text`` (or of
    one of its alternatives: see ``query_terms``); none when ``text`` has no tokens."""
    found = condition(text, using=queryset.db)
    return queryset.none() if found is None else queryset.filter(found)


# --- Filling and indexing ----------------------------------------------------------------------


def refresh(queryset=None, batch_size=2000):
    """(Re)compute search_words of the cases in ``queryset`` (all by default; a migration passes
    its historical model's queryset), ``batch_size`` rows at a time in primary-key order, writing
    only rows whose words changed. Returns how many rows were written."""
    if queryset is None:
        from .models import Case

        queryset = Case.objects.all()
    model = queryset.model
    rows = queryset.order_by("pk").only("pk", "description", "search_words")
    written, last_pk = 0, None
    while True:
        batch = list((rows if last_pk is None else rows.filter(pk__gt=last_pk))[:batch_size])
        if not batch:
            return written
        stale = []
        for case in batch:
            words = words_for(case.description)
            if words != case.search_words:
                case.search_words = words
                stale.append(case)
        if stale:
            model._base_manager.using(queryset.db).bulk_update(stale, ["search_words"])
            written += len(stale)
        if len(batch) < batch_size:
            return written
        last_pk = batch[-1].pk


def install(connection):
    """Create the search index if missing (idempotent). On SQLite, missing triggers mean the FTS
    table may have missed changes, so it is rebuilt from cases_case after they are restored.
    Returns True when something was created."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [PG_INDEX])
            if cursor.fetchone():
                return False
            cursor.execute(
                f"ALTER TABLE cases_case ADD COLUMN IF NOT EXISTS {PG_COLUMN} tsvector "
                "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_words)) STORED"
            )
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON cases_case USING gin ({PG_COLUMN})")
            cursor.execute(f"DROP INDEX IF EXISTS {PG_OLD_INDEX}")
            return True
        if connection.vendor != "sqlite":
            raise NotSupportedError(f"Case search supports PostgreSQL and SQLite, not {connection.vendor}.")
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE (type = 'table' AND name = %s) OR (type = 'trigger' AND name IN "
            f"({', '.join(['%s'] * len(FTS_TRIGGERS))}))",
            [FTS_TABLE, *FTS_TRIGGERS],
        )
        present = {row[0] for row in cursor.fetchall()}
        if present == {FTS_TABLE, *FTS_TRIGGERS}:
            return False
        # unicode61 splits at anything but letters and digits and folds case, like the tokens.
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
            "search_words, content='cases_case', content_rowid='id', tokenize='unicode61 remove_diacritics 0')"
        )
        for sql in FTS_TRIGGERS.values():
            cursor.execute(sql)
        rebuild(connection)
        return True


def repair_after_migrate(sender=None, using=DEFAULT_DB_ALIAS, **kwargs):
    """A post_migrate receiver: ``install`` again once migration 0006 is applied, so that a later
    migration that rebuilt cases_case on SQLite does not leave the search without triggers.
    Costs three small queries when everything is in place."""
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    if ("cases", "0006_case_search") in MigrationRecorder(connection).applied_migrations():
        install(connection)


def rebuild(connection):
    """SQLite: re-read every row of cases_case into the FTS table (PostgreSQL's generated column
    needs no such step)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")


def analyze(connection):
    """Fresh planner statistics for cases_case, e.g. after a large import. Without any, SQLite
    drives a search limited to some projects from the project index (reading all their cases)
    instead of from the FTS table; PostgreSQL's autovacuum gets there too, later."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")


def uninstall(connection):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
            cursor.execute(f"ALTER TABLE cases_case DROP COLUMN IF EXISTS {PG_COLUMN}")
        elif connection.vendor == "sqlite":
            for name in FTS_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
