"""Full-text search over raw user input: websearch_to_tsquery never raises on what a user types."""

import os
from typing import Any

import psycopg

SEARCH = """
    SELECT id, body
    FROM posts, websearch_to_tsquery('english', %(q)s) AS query
    WHERE to_tsvector('english', body) @@ query          -- the indexed expression, verbatim
    ORDER BY ts_rank(to_tsvector('english', body), query) DESC, id
    LIMIT %(limit)s
"""
COUNT = """
    SELECT count(*) FROM posts
    WHERE to_tsvector('english', body) @@ websearch_to_tsquery('english', %(q)s)
"""


def search(conn: psycopg.Connection[Any], user_input: str, limit: int = 2) -> list[tuple[int, str]]:
    return [(id_, body) for id_, body in conn.execute(SEARCH, {"q": user_input, "limit": limit})]


def count(conn: psycopg.Connection[Any], user_input: str) -> int:
    row = conn.execute(COUNT, {"q": user_input}).fetchone()
    assert row is not None
    return int(row[0])


def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(url) as conn:
        for user_input in ["database performance", '"database performance" -mysql', "C++ & (oops", ""]:
            print(f"{user_input!r}: {count(conn, user_input)} posts")
            for id_, body in search(conn, user_input):
                print(f"    #{id_} {body}")


if __name__ == "__main__":
    main()
