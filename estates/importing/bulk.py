"""Bulk reads and writes of plain rows (dicts of column values) for large imports.

Django's bulk_create/bulk_update spend most of their time per field per object in Python
(about 40 µs a row here); at 600,000 rows (units, owners, ownerships and their history) that
alone would eat the import's time budget. These helpers write the same rows with
``executemany`` on SQLite and ``COPY`` on PostgreSQL, converting only the columns whose Python
value the driver cannot take as it is (dates, datetimes and decimals on SQLite). Other
databases fall back to Django's bulk methods.

New rows get their primary keys before they are written (later rows point at them): on
PostgreSQL from the table's sequence, on SQLite after the highest id ever used — safe because
the import's transaction holds SQLite's write lock from its first statement
(``transaction_mode = "IMMEDIATE"``). Call the writers inside ``transaction.atomic()`` only.
"""

from django.db import connection

BATCH_SIZE = 2000
# Up to this many rows, an update on PostgreSQL is one ``UPDATE … FROM (VALUES …)`` statement
# (the sweep's batches); more go through COPY and a temporary table (imports).
VALUES_ROWS = 1000
_CONVERTED_TYPES = {
    "DateField",
    "DateTimeField",
    "DecimalField",
    "DurationField",
    "JSONField",
    "TimeField",
    "UUIDField",
}


def new_row(model, values, when):
    """A complete row for ``model``: field defaults, ``auto_now(_add)`` fields set to ``when``,
    then ``values`` (attname → value)."""
    row = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            row[field.attname] = None
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            row[field.attname] = when
        else:
            row[field.attname] = field.get_default()
    row.update(values)
    return row


def select_in(model, field, values):
    """Rows of ``model`` (dicts of every concrete field) whose ``field`` is one of ``values``:
    one query with an array on PostgreSQL, a query per chunk of values elsewhere."""
    attnames = [f.attname for f in model._meta.concrete_fields]
    values = list(values)
    if not values:
        return
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in model._meta.concrete_fields)
        where = f"{quote(_field(model, field).column)} = ANY(%s)"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {columns} FROM {quote(model._meta.db_table)} WHERE {where}", [values])
            for row in cursor.fetchall():
                yield dict(zip(attnames, row))
        return
    size = min(5000, connection.features.max_query_params or 5000)
    for start in range(0, len(values), size):
        queryset = model._default_manager.filter(**{f"{field}__in": values[start : start + size]})
        for row in queryset.values_list(*attnames):
            yield dict(zip(attnames, row))


def create(model, rows):
    """Insert ``rows`` (complete, see new_row) and set each one's primary key."""
    if not rows:
        return
    pk = model._meta.pk.attname
    ids = _reserve_ids(model, len(rows))
    if ids is None:
        objs = [model(**row) for row in rows]
        model._default_manager.bulk_create(objs, batch_size=BATCH_SIZE)
        for row, obj in zip(rows, objs):
            row[pk] = obj.pk
        return
    for row, new_id in zip(rows, ids):
        row[pk] = new_id
    columns = [field.attname for field in model._meta.concrete_fields]
    _insert(model, columns, rows)


def update(model, rows, columns):
    """Set ``columns`` of the rows whose primary key each row holds."""
    if not rows or not columns:
        return
    columns = list(columns)
    if connection.vendor == "postgresql" and len(rows) <= VALUES_ROWS:
        _update_postgresql_values(model, rows, columns)
    elif connection.vendor == "postgresql":
        _update_postgresql(model, rows, columns)
    elif connection.vendor == "sqlite":
        _update_sqlite(model, rows, columns)
    else:
        objs = [model(**row) for row in rows]
        model._default_manager.bulk_update(objs, columns, batch_size=BATCH_SIZE)


def _insert(model, columns, rows):
    fields = [_field(model, c) for c in columns]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
            return
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(fields))})"
        _execute_in_batches(cursor, sql, rows, columns, _converters(fields))


def _update_sqlite(model, rows, columns):
    quote = connection.ops.quote_name
    pk = model._meta.pk
    fields = [_field(model, c) for c in columns] + [pk]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields[:-1])
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(pk.column)} = %s"
    with connection.cursor() as cursor:
        _execute_in_batches(cursor, sql, rows, columns + [pk.attname], _converters(fields))


def _update_postgresql_values(model, rows, columns):
    """One statement: the new values as a typed VALUES list joined on the primary key."""
    quote = connection.ops.quote_name
    pk = model._meta.pk
    fields = [pk] + [_field(model, c) for c in columns]
    placeholder = "(" + ", ".join(f"%s::{f.cast_db_type(connection)}" for f in fields) + ")"
    names = ", ".join(quote(f.column) for f in fields)
    assignments = ", ".join(f"{quote(f.column)} = u.{quote(f.column)}" for f in fields[1:])
    params = []
    for row in rows:
        params.extend(f.get_db_prep_save(row[f.attname], connection) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} AS t SET {assignments} "
            f"FROM (VALUES {', '.join([placeholder] * len(rows))}) AS u ({names}) "
            f"WHERE t.{quote(pk.column)} = u.{quote(pk.column)}",
            params,
        )


def _update_postgresql(model, rows, columns):
    """COPY the new values into a temporary table, then one UPDATE … FROM it: a statement per
    row, even pipelined, is several times slower."""
    quote = connection.ops.quote_name
    pk = model._meta.pk
    names = [pk.attname] + columns
    column_sql = ", ".join(quote(_field(model, c).column) for c in names)
    table = quote(model._meta.db_table)
    temporary = quote(f"import_update_{model._meta.db_table}")
    assignments = ", ".join(
        f"{quote(_field(model, c).column)} = u.{quote(_field(model, c).column)}" for c in columns
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temporary} ON COMMIT DROP AS "
            f"SELECT {column_sql} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {temporary} ({column_sql}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in names])
        cursor.execute(
            f"UPDATE {table} AS t SET {assignments} FROM {temporary} AS u "
            f"WHERE t.{quote(pk.column)} = u.{quote(pk.column)}"
        )
        cursor.execute(f"DROP TABLE {temporary}")


def _execute_in_batches(cursor, sql, rows, columns, converters):
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start : start + BATCH_SIZE]
        cursor.executemany(sql, [_values(row, columns, converters) for row in batch])


def _field(model, attname):
    for field in model._meta.concrete_fields:
        if field.attname == attname:
            return field
    raise LookupError(attname)


def _converters(fields):
    return [_converter(f) if f.get_internal_type() in _CONVERTED_TYPES else None for f in fields]


def _converter(field):
    """Django's conversion of a value for ``field``, remembered per value: an import repeats a
    handful of dates and amounts, and one timestamp for all its history rows."""
    seen = {}

    def convert(value):
        try:
            return seen[value]
        except KeyError:
            result = seen[value] = field.get_db_prep_save(value, connection)
            return result
        except TypeError:  # unhashable
            return field.get_db_prep_save(value, connection)

    return convert


def _values(row, columns, converters):
    return [row[c] if convert is None else convert(row[c]) for c, convert in zip(columns, converters)]


def _reserve_ids(model, count):
    """``count`` unused primary keys for ``model``, or None where this cannot be done."""
    pk = model._meta.pk
    if pk.get_internal_type() not in ("AutoField", "BigAutoField", "SmallAutoField"):
        return None
    table, quote = model._meta.db_table, connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [quote(table), pk.column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor == "sqlite":
            cursor.execute(f"SELECT MAX({quote(pk.column)}) FROM {quote(table)}")
            highest = cursor.fetchone()[0] or 0
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            used = cursor.fetchone()
            start = max(highest, used[0] if used else 0) + 1
            return list(range(start, start + count))
    return None
