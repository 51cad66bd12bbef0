"""A query that is not routed by the shard key must ask every shard and merge the answers."""

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sharded_db import ShardedDatabase, create_shards  # sharded_db.py, next to this file


def scatter(db: ShardedDatabase, query: str, params: list[Any] | None = None) -> list[list[tuple[Any, ...]]]:
    """Run the query on every shard at once; one list of rows per shard."""
    with ThreadPoolExecutor(len(db.shards)) as pool:
        return list(pool.map(lambda conn: conn.execute(query, params).fetchall(), db.shards))


def oldest(db: ShardedDatabase, k: int) -> list[tuple[Any, ...]]:
    """Global top k: each shard sends its own top k, the router keeps the best k of those."""
    parts = scatter(db, "SELECT age, id FROM users ORDER BY age DESC, id LIMIT %s", [k])
    return sorted((row for part in parts for row in part), key=lambda r: (-r[0], r[1]))[:k]


def average_age(db: ShardedDatabase) -> tuple[float, float]:
    """(average of the shards' averages: wrong, sum of sums / sum of counts: right)."""
    parts = [rows[0] for rows in scatter(db, "SELECT avg(age)::float, sum(age), count(*) FROM users")]
    wrong = sum(p[0] for p in parts) / len(parts)
    right = sum(p[1] for p in parts) / sum(p[2] for p in parts)
    return round(wrong, 3), round(right, 3)


def main() -> None:
    dsn = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    db = ShardedDatabase(create_shards(dsn, 3))
    db.insert_many([(f"user-{i}", f"name {i}", ["US", "DE", "JP"][i % 3], 18 + i * 7 % 60) for i in range(1000)])
    print("3 oldest (3 queries, 9 rows fetched):", oldest(db, 3))
    print("average age, avg of avgs vs sum/count:", average_age(db))
    merged: dict[str, int] = {}
    for rows in scatter(db, "SELECT country, count(*) FROM users GROUP BY country"):
        for country, n in rows:
            merged[country] = merged.get(country, 0) + n
    print("users per country:", dict(sorted(merged.items())))
    db.close()


if __name__ == "__main__":
    main()
