"""Query through the pool: one row, many rows streamed, typed with a dataclass row factory."""

import os
from dataclasses import dataclass

from psycopg.rows import class_row
from psycopg_pool import ConnectionPool


@dataclass
class User:
    id: int
    name: str
    email: str


def setup(pool: ConnectionPool) -> None:
    with pool.connection() as conn:  # commits on leaving the block
        conn.execute("CREATE TABLE IF NOT EXISTS users (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL)")
        conn.cursor().executemany(
            "INSERT INTO users VALUES (%s, %s, %s) ON CONFLICT (id) DO NOTHING",
            [(1, "Ada", "ada@example.com"), (2, "Linus", "linus@example.com"), (3, "Grace", "grace@example.com")],
        )


def get_user(pool: ConnectionPool, email: str) -> User | None:
    with pool.connection() as conn, conn.cursor(row_factory=class_row(User)) as cur:
        return cur.execute("SELECT id, name, email FROM users WHERE email = %s", [email]).fetchone()


def get_all_users(pool: ConnectionPool) -> list[User]:
    users = []
    with pool.connection() as conn, conn.cursor(row_factory=class_row(User)) as cur:
        for user in cur.execute("SELECT id, name, email FROM users ORDER BY id"):  # rows arrive typed
            users.append(user)
    return users


def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with ConnectionPool(url, min_size=1, max_size=2) as pool:  # opens, and closes on exit
        setup(pool)
        print(get_user(pool, "grace@example.com"))
        print(get_user(pool, "x' OR '1'='1"))  # a parameter is a value, never SQL
        for user in get_all_users(pool):
            print(user.id, user.name, user.email)


if __name__ == "__main__":
    main()
