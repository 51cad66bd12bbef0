"""Same plan node, different work: how many pages an index scan touches on a leading vs non-leading column."""

import os
import sys
from typing import Any, LiteralString

import psycopg

WINDOW = ["2024-03-01 00:00+00", "2024-03-01 01:00+00"]
QUERIES: dict[str, tuple[LiteralString, list[str]]] = {
    "status and signup_at": (
        "SELECT id FROM users WHERE status = %s AND signup_at >= %s AND signup_at < %s",
        ["dormant", *WINDOW],
    ),
    "signup_at only": ("SELECT id FROM users WHERE signup_at >= %s AND signup_at < %s", WINDOW),
}


def scan_node(conn: psycopg.Connection[Any], query: LiteralString, params: list[str]) -> dict[str, Any]:
    """The (single) scan node of EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)."""
    row = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query, params).fetchone()
    assert row is not None
    node: dict[str, Any] = row[0][0]["Plan"]
    return node


def index_pages(conn: psycopg.Connection[Any], index: str) -> int:
    row = conn.execute("SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int", [index]).fetchone()
    assert row is not None
    return int(row[0])


def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(url) as conn:
        for label, (query, params) in QUERIES.items():
            node = scan_node(conn, query, params)
            touched = node["Shared Hit Blocks"] + node["Shared Read Blocks"]
            index = node.get("Index Name", "-")
            size = index_pages(conn, index) if index != "-" else 0
            print(
                f"{label}: {node['Node Type']} using {index}, {node['Actual Rows']} rows,"
                f" {touched} pages touched (the index has {size})"
            )


if __name__ == "__main__":
    try:
        main()
    except psycopg.errors.UndefinedTable as e:  # dataset.sql creates the tables
        sys.exit(f"{e.diag.message_primary}: run dataset.sql (the page's first SQL block) first")
