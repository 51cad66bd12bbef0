"""COPY ... FREEZE also sets the visibility map: an index-only scan needs no VACUUM after such a load."""

import os
from typing import Any

import psycopg
from psycopg import sql

ROWS = 100_000


def load(conn: psycopg.Connection[Any], table: str, freeze: bool) -> None:
    """Create the table and fill it in ONE transaction: FREEZE requires the table to be new (or truncated)."""
    name = sql.Identifier(table)
    with conn.transaction():
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (id bigint PRIMARY KEY, email text NOT NULL) WITH (autovacuum_enabled = off)"
            ).format(name)
        )
        copy = sql.SQL("COPY {} FROM STDIN (FREEZE)" if freeze else "COPY {} FROM STDIN").format(name)
        with conn.cursor().copy(copy) as rows:
            for i in range(1, ROWS + 1):
                rows.write_row((i, f"user{i}@example.com"))
    conn.execute(sql.SQL("ANALYZE {}").format(name))  # ANALYZE records the all-visible page count too


def pages_with_rows(conn: psycopg.Connection[Any], table: str) -> int:
    """Pages holding rows (the block number of each row's ctid); the file may have empty pages at its end."""
    query = sql.SQL("SELECT count(DISTINCT (ctid::text::point)[0]) FROM {}").format(sql.Identifier(table))
    row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def report(conn: psycopg.Connection[Any], table: str) -> str:
    row = conn.execute("SELECT relallvisible FROM pg_class WHERE oid = %s::regclass", [table]).fetchone()
    assert row is not None
    query = sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) SELECT id FROM {} WHERE id BETWEEN %s AND %s")
    plan = conn.execute(query.format(sql.Identifier(table)), [100, 200]).fetchone()
    assert plan is not None
    node = plan[0][0]["Plan"]
    return (
        f"{row[0]} of {pages_with_rows(conn, table)} pages with rows all-visible; {node['Node Type']}:"
        f" {int(node['Actual Rows'])} rows, {node['Heap Fetches']} heap fetches"
    )


def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(url, autocommit=True) as conn:
        for table, freeze in [("emails_copy_freeze", True), ("emails_copy", False)]:
            load(conn, table, freeze)
            print(f"{table}: {report(conn, table)}")


if __name__ == "__main__":
    main()
