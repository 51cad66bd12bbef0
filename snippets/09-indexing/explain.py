"""Read a plan the way the tests do: EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON), walked node by node."""

import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any, LiteralString

import psycopg

# --8<-- [start:explain]
Plan = dict[str, Any]


def explain(conn: psycopg.Connection[Any], query: LiteralString, params: Sequence[Any] = ()) -> Plan:
    """The plan PostgreSQL ran. ANALYZE executes the query: wrap DML in a transaction you roll back."""
    row = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query, params).fetchone()
    assert row is not None
    plan: Plan = row[0][0]["Plan"]
    return plan


def nodes(plan: Plan) -> Iterator[Plan]:
    """The node and every node under it, top-down."""
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def describe(plan: Plan) -> list[str]:
    lines = []
    for node in nodes(plan):
        line = node["Node Type"]
        if "Index Name" in node:
            line += f" using {node['Index Name']}"
        line += f": rows={node['Actual Rows']}"
        if "Heap Fetches" in node:
            line += f" heap_fetches={node['Heap Fetches']}"
        lines.append(line)
    return lines


QUERIES: list[tuple[LiteralString, list[Any]]] = [
    ("SELECT first_name, last_name FROM users WHERE email = %s", ["User42.Last42@Example.com"]),
    ("SELECT id FROM users WHERE lower(email) = lower(%s)", ["USER42.last42@example.com"]),
    ("SELECT id FROM users WHERE first_name = %s", ["first42"]),
]


def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(url) as conn:
        for query, params in QUERIES:
            print(query, params)
            for line in describe(explain(conn, query, params)):
                print("   ", line)


if __name__ == "__main__":
    try:
        main()
    except psycopg.errors.UndefinedTable as e:  # dataset.sql creates the tables
        sys.exit(f"{e.diag.message_primary}: run dataset.sql (the page's first SQL block) first")
# --8<-- [end:explain]
