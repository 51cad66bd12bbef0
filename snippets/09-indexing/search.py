"""Full-text search over raw user input: websearch_to_tsquery parses anything a user types, if it is not too long."""

import os
import sys
from typing import Any

import psycopg

# --8<-- [start:checked]
MAX_SEARCH_CHARS = 200  # a search box's cap: tens of thousands of words exhaust the parser's stack (54001)
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


def checked(user_input: str) -> str:
    """Refuse over-long input before it reaches the server, with an error the caller can show."""
    if len(user_input) > MAX_SEARCH_CHARS:
        raise ValueError(f"search text is {len(user_input)} characters; at most {MAX_SEARCH_CHARS} are allowed")
    return user_input


def search(conn: psycopg.Connection[Any], user_input: str, limit: int = 2) -> list[tuple[int, str]]:
    return [(id_, body) for id_, body in conn.execute(SEARCH, {"q": checked(user_input), "limit": limit})]


def count(conn: psycopg.Connection[Any], user_input: str) -> int:
    row = conn.execute(COUNT, {"q": checked(user_input)}).fetchone()
    assert row is not None
    return int(row[0])


def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(url) as conn:
        for user_input in [
            "database performance",
            '"database performance" -mysql',
            "C++ & (oops",
            "",
            "word " * 50_000,
        ]:
            try:
                print(f"{user_input[:40]!r}: {count(conn, user_input)} posts")
            except ValueError as e:
                print(f"{user_input[:10]!r}...: refused: {e}")
                continue
            for id_, body in search(conn, user_input):
                print(f"    #{id_} {body}")


if __name__ == "__main__":
    try:
        main()
    except psycopg.errors.UndefinedTable as e:  # dataset.sql creates the tables
        sys.exit(f"{e.diag.message_primary}: run dataset.sql (the page's first SQL block) first")
# --8<-- [end:checked]
