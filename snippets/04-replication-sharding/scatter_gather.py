"""A query that is not routed by the shard key must ask every shard and merge the answers."""

import hashlib
import os
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

# --8<-- [start:connect_shards]
SCHEMA = "CREATE TABLE users (id text PRIMARY KEY, name text NOT NULL, country text NOT NULL, age int NOT NULL)"
User = tuple[str, str, str, int]
Shards = list[psycopg.Connection[Any]]


def connect_shards(dsn: str, n: int) -> Shards:
    """Shard i is the database <dbname>_shard<i> on the same server, created if missing, with an empty users table."""
    names = [f"{conninfo_to_dict(dsn)['dbname']}_shard{i}" for i in range(n)]
    with psycopg.connect(dsn, autocommit=True) as conn:
        existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        for name in set(names) - existing:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    shards = [psycopg.connect(make_conninfo(dsn, dbname=name), autocommit=True) for name in names]
    for shard in shards:
        shard.execute("DROP TABLE IF EXISTS users")
        shard.execute(SCHEMA)
    return shards


def insert_many(shards: Shards, users: list[User]) -> None:
    """Route each row by a stable hash of its key (BLAKE2b); one transaction per shard."""
    by_shard: dict[int, list[User]] = defaultdict(list)
    for user in users:
        digest = hashlib.blake2b(user[0].encode(), digest_size=8).digest()
        by_shard[int.from_bytes(digest, "big") % len(shards)].append(user)
    for i, rows in by_shard.items():
        with shards[i].transaction(), shards[i].cursor() as cur:
            cur.executemany("INSERT INTO users VALUES (%s, %s, %s, %s)", rows)


def scatter(shards: Shards, query: str, params: list[Any] | None = None) -> list[list[tuple[Any, ...]]]:
    """Run the query on every shard at once; one list of rows per shard."""
    with ThreadPoolExecutor(len(shards)) as pool:
        return list(pool.map(lambda conn: conn.execute(query, params).fetchall(), shards))


def oldest(shards: Shards, k: int) -> list[tuple[Any, ...]]:
    """Global top k: each shard sends its own top k, the router keeps the best k of those."""
    parts = scatter(shards, "SELECT age, id FROM users ORDER BY age DESC, id LIMIT %s", [k])
    return sorted((row for part in parts for row in part), key=lambda r: (-r[0], r[1]))[:k]


def average_age(shards: Shards) -> tuple[float, float]:
    """(average of the shards' averages: wrong, sum of sums / sum of counts: right)."""
    parts = [rows[0] for rows in scatter(shards, "SELECT avg(age)::float, sum(age), count(*) FROM users")]
    wrong = sum(p[0] for p in parts) / len(parts)
    right = sum(p[1] for p in parts) / sum(p[2] for p in parts)
    return round(wrong, 3), round(right, 3)


# --8<-- [end:connect_shards]


# --8<-- [start:main]
def main() -> None:
    dsn = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    shards = connect_shards(dsn, 3)  # kept afterwards to look at
    insert_many(shards, [(f"user-{i}", f"name {i}", ["US", "DE", "JP"][i % 3], 18 + i * 7 % 60) for i in range(1000)])
    print("3 oldest (3 queries, 9 rows fetched):", oldest(shards, 3))
    print("average age, avg of avgs vs sum/count:", average_age(shards))
    merged: dict[str, int] = {}
    for rows in scatter(shards, "SELECT country, count(*) FROM users GROUP BY country"):
        for country, n in rows:
            merged[country] = merged.get(country, 0) + n
    print("users per country:", dict(sorted(merged.items())))
    for shard in shards:
        shard.close()


if __name__ == "__main__":
    main()
# --8<-- [end:main]
