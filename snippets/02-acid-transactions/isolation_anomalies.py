"""Which anomalies does PostgreSQL allow at each isolation level? Two real connections decide."""

import os
from collections.abc import Callable

import psycopg
from psycopg import Connection, IsolationLevel
from psycopg.rows import TupleRow

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
Conn = Connection[TupleRow]


def one(conn: Conn, query: str) -> int:
    row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def dirty_read(t1: Conn, t2: Conn) -> bool:
    t2.execute("UPDATE doctors SET shifts = 99 WHERE id = 1")  # t2 does not commit
    seen = one(t1, "SELECT shifts FROM doctors WHERE id = 1")
    t2.rollback()
    return seen == 99


def non_repeatable_read(t1: Conn, t2: Conn) -> bool:
    first = one(t1, "SELECT shifts FROM doctors WHERE id = 1")
    t2.execute("UPDATE doctors SET shifts = shifts + 1 WHERE id = 1")
    t2.commit()
    return one(t1, "SELECT shifts FROM doctors WHERE id = 1") != first


def phantom_read(t1: Conn, t2: Conn) -> bool:
    first = one(t1, "SELECT count(*) FROM doctors WHERE shifts >= 5")
    t2.execute("INSERT INTO doctors VALUES (3, 'carol', 7, false)")
    t2.commit()
    return one(t1, "SELECT count(*) FROM doctors WHERE shifts >= 5") != first


def write_skew(t1: Conn, t2: Conn) -> bool:
    """Rule: one doctor stays on call. Each checks the rule, then takes itself off call."""
    try:
        for conn, me in ((t1, 1), (t2, 2)):
            if one(conn, "SELECT count(*) FROM doctors WHERE on_call") >= 2:
                conn.execute("UPDATE doctors SET on_call = false WHERE id = %s", [me])
        t1.commit()
        t2.commit()
    except psycopg.errors.SerializationFailure:
        return False  # SERIALIZABLE refused the second commit: the rule holds
    return one(t1, "SELECT count(*) FROM doctors WHERE on_call") == 0


ANOMALIES: dict[str, Callable[[Conn, Conn], bool]] = {
    "dirty read": dirty_read, "non-repeatable read": non_repeatable_read,
    "phantom read": phantom_read, "write skew": write_skew,
}


def main() -> None:
    with psycopg.connect(DATABASE_URL, autocommit=True) as admin, \
            psycopg.connect(DATABASE_URL) as t1, psycopg.connect(DATABASE_URL) as t2:
        print(f"{'isolation level':<18}" + "".join(f"{name:<21}" for name in ANOMALIES))
        for level in IsolationLevel:
            t1.isolation_level = t2.isolation_level = level
            cells = []
            for scenario in ANOMALIES.values():
                admin.execute("DROP TABLE IF EXISTS doctors")
                admin.execute("CREATE TABLE doctors (id int PRIMARY KEY, name text, shifts int, on_call bool)")
                admin.execute("INSERT INTO doctors VALUES (1, 'alice', 5, true), (2, 'bob', 6, true)")
                cells.append("possible" if scenario(t1, t2) else "never")
                t1.rollback()
                t2.rollback()
            print(f"{level.name.replace('_', ' '):<18}" + "".join(f"{c:<21}" for c in cells))


if __name__ == "__main__":
    main()
