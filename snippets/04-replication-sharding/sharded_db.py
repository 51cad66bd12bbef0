"""The common answer's ShardedDatabase in Python: N real PostgreSQL databases, insert/get routed by a stable hash."""

import hashlib
import os
from collections import defaultdict

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

# --8<-- [start:stable_hash]
SCHEMA = "CREATE TABLE users (id text PRIMARY KEY, name text NOT NULL, country text NOT NULL, age int NOT NULL)"
User = tuple[str, str, str, int]


def stable_hash(key: str | int) -> int:
    """The same 64-bit number for the same key in every process, on every machine."""
    return int.from_bytes(hashlib.blake2b(str(key).encode(), digest_size=8).digest(), "big")


def shard_names(dsn: str, n: int) -> list[str]:
    """Shard i is the database <dbname>_shard<i> on the same server."""
    return [f"{conninfo_to_dict(dsn)['dbname']}_shard{i}" for i in range(n)]


def create_shards(dsn: str, n: int) -> list[str]:
    """Create the shard databases that are missing, each with an empty users table; return their DSNs."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        for name in shard_names(dsn, n):
            if name not in existing:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            with psycopg.connect(make_conninfo(dsn, dbname=name)) as shard:
                shard.execute("DROP TABLE IF EXISTS users")
                shard.execute(SCHEMA)
    return [make_conninfo(dsn, dbname=name) for name in shard_names(dsn, n)]


def drop_shards(dsn: str, n: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name in shard_names(dsn, n):
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


class ShardedDatabase:
    def __init__(self, dsns: list[str]) -> None:
        self.shards = [psycopg.connect(d, autocommit=True) for d in dsns]

    def shard_of(self, key: str) -> int:
        return stable_hash(key) % len(self.shards)

    def insert(self, key: str, name: str, country: str, age: int) -> None:
        self.shards[self.shard_of(key)].execute("INSERT INTO users VALUES (%s, %s, %s, %s)", [key, name, country, age])

    def insert_many(self, users: list[User]) -> None:
        """One transaction (one commit) per shard instead of one per row."""
        by_shard: dict[int, list[User]] = defaultdict(list)
        for user in users:
            by_shard[self.shard_of(user[0])].append(user)
        for i, rows in by_shard.items():
            with self.shards[i].transaction(), self.shards[i].cursor() as cur:
                cur.executemany("INSERT INTO users VALUES (%s, %s, %s, %s)", rows)

    def get(self, key: str) -> User | None:
        return self.shards[self.shard_of(key)].execute("SELECT * FROM users WHERE id = %s", [key]).fetchone()

    def close(self) -> None:
        for conn in self.shards:
            conn.close()


# --8<-- [end:stable_hash]


# --8<-- [start:main]
def main() -> None:
    dsn = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    db = ShardedDatabase(create_shards(dsn, 3))  # kept afterwards to look at; drop_shards() removes them
    db.insert("user-0", "Ada", "GB", 36)
    db.insert_many([(f"user-{i}", f"name {i}", ["US", "DE", "JP"][i % 3], 18 + i * 7 % 60) for i in range(1, 1000)])
    print("user-0 lives on shard", db.shard_of("user-0"), "->", db.get("user-0"))
    print("rows per shard:", [c.execute("SELECT count(*) FROM users").fetchone()[0] for c in db.shards])  # type: ignore[index]
    print("get of a missing key:", db.get("user-5000"))
    db.close()


if __name__ == "__main__":
    main()
# --8<-- [end:main]
