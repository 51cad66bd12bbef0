"""Hermitage's isolation tests on PostgreSQL: every anomaly at every isolation level, on real connections.

The test cases are those of Martin Kleppmann's Hermitage (https://github.com/ept/hermitage, postgres.md):
each transaction has its own connection, and the statements are interleaved one at a time, in the order
the test case gives. A statement that waits for another transaction's lock is left waiting, and the
next step goes on, exactly as when Hermitage's scripts are typed into several psql sessions.
"""

import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
LEVELS = ["READ UNCOMMITTED", "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"]


# --8<-- [start:session]
@dataclass
class Step:
    """What one statement did: the rows it returned, its status (UPDATE 1, COMMIT, ROLLBACK...) or
    its error's SQLSTATE, and whether it had to wait for another transaction's lock first."""

    rows: list[tuple[int, int]] = field(default_factory=list)
    status: str = ""
    error: str = ""
    waited: bool = False


class Session:
    """Up to three transactions T1, T2, T3 at one isolation level; s(2, sql) runs sql in T2."""

    def __init__(self, level: str) -> None:
        self.level, self.steps = level, list[Step]()
        self.monitor = psycopg.connect(DATABASE_URL, autocommit=True)
        # autocommit: BEGIN and COMMIT are sent as SQL, as in Hermitage's scripts
        self.conns = [psycopg.connect(DATABASE_URL, autocommit=True) for _ in range(3)]
        self.threads = [ThreadPoolExecutor(max_workers=1) for _ in range(3)]  # so a statement can block
        self.running: list[tuple[Future[None], Step] | None] = [None, None, None]
        self.begun: set[int] = set()

    def __call__(self, t: int, sql: str) -> Step:
        if t not in self.begun:  # each transaction begins with its first statement
            self.begun.add(t)
            self.run(t, f"BEGIN ISOLATION LEVEL {self.level}")
        return self.run(t, sql)

    def run(self, t: int, sql: str) -> Step:
        if (previous := self.running[t - 1]) is not None:
            previous[0].result()  # one transaction's statements run in order
        step = Step()
        self.steps.append(step)
        self.running[t - 1] = (self.threads[t - 1].submit(execute, self.conns[t - 1], sql, step), step)
        self.settle()
        return step

    # --8<-- [end:session]
    # --8<-- [start:settle]
    def settle(self) -> None:
        """Wait until each statement sent has finished or is waiting for a lock another holds."""
        deadline = time.monotonic() + 10
        for conn, running in zip(self.conns, self.running, strict=True):
            while running is not None and not running[0].done():
                query = "SELECT pg_blocking_pids(%s) <> '{}'"
                if self.monitor.execute(query, [conn.info.backend_pid]).fetchone() == (True,):
                    running[1].waited = True
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"a statement neither finished nor waited for a lock: {running[1]}")
                time.sleep(0.002)

    def table(self) -> dict[int, int]:
        return dict(self.monitor.execute("SELECT id, value FROM hermitage").fetchall())

    def close(self) -> None:
        for running in self.running:
            if running is not None:
                running[0].result(timeout=10)
        for thread, conn in zip(self.threads, self.conns, strict=True):
            thread.shutdown()
            conn.close()
        self.monitor.close()


def execute(conn: psycopg.Connection, sql: str, step: Step) -> None:
    try:
        cur = conn.execute(sql)  # no parameters: % in the SQL is the modulo operator
        step.rows = cur.fetchall() if cur.description else []
        step.status = cur.statusmessage or ""
    except psycopg.Error as e:
        step.error = e.sqlstate or "?"


# --8<-- [end:settle]


# --8<-- [start:g0-g1]
def committed(*steps: Step) -> bool:
    return all(step.status == "COMMIT" for step in steps)  # a COMMIT in a failed transaction says ROLLBACK


def g0(s: Session) -> bool:
    """Write cycle (dirty write): the two transactions' writes to rows 1 and 2 interleave."""
    s(1, "UPDATE hermitage SET value = 11 WHERE id = 1")
    s(2, "UPDATE hermitage SET value = 12 WHERE id = 1")
    s(1, "UPDATE hermitage SET value = 21 WHERE id = 2")
    s(1, "COMMIT")
    s(2, "UPDATE hermitage SET value = 22 WHERE id = 2")
    s(2, "COMMIT")
    return s.table() in ({1: 12, 2: 21}, {1: 11, 2: 22})


def g1a(s: Session) -> bool:
    """Aborted read: T2 sees a value that T1 wrote and then rolled back."""
    s(1, "UPDATE hermitage SET value = 101 WHERE id = 1")
    before = s(2, "SELECT * FROM hermitage")
    s(1, "ROLLBACK")
    after = s(2, "SELECT * FROM hermitage")
    s(2, "COMMIT")
    return (1, 101) in before.rows + after.rows


def g1b(s: Session) -> bool:
    """Intermediate read: T2 sees a value T1 overwrote before it committed."""
    s(1, "UPDATE hermitage SET value = 101 WHERE id = 1")
    before = s(2, "SELECT * FROM hermitage")
    s(1, "UPDATE hermitage SET value = 11 WHERE id = 1")
    s(1, "COMMIT")
    after = s(2, "SELECT * FROM hermitage")
    s(2, "COMMIT")
    return (1, 101) in before.rows + after.rows


def g1c(s: Session) -> bool:
    """Circular information flow: each transaction sees the other's uncommitted write."""
    s(1, "UPDATE hermitage SET value = 11 WHERE id = 1")
    s(2, "UPDATE hermitage SET value = 22 WHERE id = 2")
    t1_saw = s(1, "SELECT * FROM hermitage WHERE id = 2")
    t2_saw = s(2, "SELECT * FROM hermitage WHERE id = 1")
    s(1, "COMMIT")
    s(2, "COMMIT")
    return t1_saw.rows == [(2, 22)] and t2_saw.rows == [(1, 11)]


# --8<-- [end:g0-g1]


# --8<-- [start:otv-p4]
def otv(s: Session) -> bool:
    """Observed transaction vanishes: T3 sees T2's write to one row, then T1's overwritten one of the other."""
    s(1, "UPDATE hermitage SET value = 11 WHERE id = 1")
    s(1, "UPDATE hermitage SET value = 19 WHERE id = 2")
    s(2, "UPDATE hermitage SET value = 12 WHERE id = 1")
    s(1, "COMMIT")
    reads = [s(3, "SELECT * FROM hermitage WHERE id = 1")]
    s(2, "UPDATE hermitage SET value = 18 WHERE id = 2")
    reads.append(s(3, "SELECT * FROM hermitage WHERE id = 2"))
    s(2, "COMMIT")
    reads += [s(3, "SELECT * FROM hermitage WHERE id = 2"), s(3, "SELECT * FROM hermitage WHERE id = 1")]
    s(3, "COMMIT")
    seen = [row for step in reads for row in step.rows]
    t2_seen = [i for i, row in enumerate(seen) if row in ((1, 12), (2, 18))]
    return any(row in ((1, 11), (2, 19)) for row in seen[t2_seen[0] :]) if t2_seen else False


def pmp(s: Session) -> bool:
    """Predicate-many-preceders: T1's second read of a predicate sees a row T2 inserted meanwhile."""
    s(1, "SELECT * FROM hermitage WHERE value = 30")
    s(2, "INSERT INTO hermitage VALUES (3, 30)")
    s(2, "COMMIT")
    again = s(1, "SELECT * FROM hermitage WHERE value % 3 = 0")
    s(1, "COMMIT")
    return (3, 30) in again.rows


def pmp_write(s: Session) -> bool:
    """PMP on a write predicate: T2 deletes 'value = 20' and still finds a row with value 20."""
    s(1, "UPDATE hermitage SET value = value + 10")
    s(2, "DELETE FROM hermitage WHERE value = 20")
    s(1, "COMMIT")
    left = s(2, "SELECT * FROM hermitage WHERE value = 20")
    s(2, "COMMIT")
    return left.rows != []


def p4(s: Session) -> bool:
    """Lost update: both read 10 and write 10 + 1; both commit, so one increment is lost."""
    s(1, "SELECT * FROM hermitage WHERE id = 1")
    s(2, "SELECT * FROM hermitage WHERE id = 1")
    s(1, "UPDATE hermitage SET value = 11 WHERE id = 1")
    s(2, "UPDATE hermitage SET value = 11 WHERE id = 1")
    return committed(s(1, "COMMIT"), s(2, "COMMIT"))


# --8<-- [end:otv-p4]


# --8<-- [start:g-single]
def g_single(s: Session) -> bool:
    """Read skew: T1 sees row 1 before T2's transfer and row 2 after it (10 + 18, not 30)."""
    first = s(1, "SELECT * FROM hermitage WHERE id = 1")
    s(2, "SELECT * FROM hermitage WHERE id = 1")
    s(2, "SELECT * FROM hermitage WHERE id = 2")
    s(2, "UPDATE hermitage SET value = 12 WHERE id = 1")
    s(2, "UPDATE hermitage SET value = 18 WHERE id = 2")
    s(2, "COMMIT")
    second = s(1, "SELECT * FROM hermitage WHERE id = 2")
    s(1, "COMMIT")
    return first.rows == [(1, 10)] and second.rows == [(2, 18)]


def g_single_dependencies(s: Session) -> bool:
    """Read skew through predicates: T1 sees row 1 as 10, then as T2's 12."""
    first = s(1, "SELECT * FROM hermitage WHERE value % 5 = 0")
    s(2, "UPDATE hermitage SET value = 12 WHERE value = 10")
    s(2, "COMMIT")
    second = s(1, "SELECT * FROM hermitage WHERE value % 3 = 0")
    s(1, "COMMIT")
    return (1, 10) in first.rows and (1, 12) in second.rows


def g_single_write(s: Session) -> bool:
    """Read skew on a write: T1 read row 1 before T2, then deletes by T2's new values and commits."""
    first = s(1, "SELECT * FROM hermitage WHERE id = 1")
    s(2, "SELECT * FROM hermitage")
    s(2, "UPDATE hermitage SET value = 12 WHERE id = 1")
    s(2, "UPDATE hermitage SET value = 18 WHERE id = 2")
    s(2, "COMMIT")
    delete = s(1, "DELETE FROM hermitage WHERE value = 20")
    return first.rows == [(1, 10)] and delete.status == "DELETE 0" and committed(s(1, "COMMIT"))


# --8<-- [end:g-single]


# --8<-- [start:g2]
def g2_item(s: Session) -> bool:
    """Write skew: both read rows 1 and 2, each updates a different one, both commit."""
    s(1, "SELECT * FROM hermitage WHERE id IN (1, 2)")
    s(2, "SELECT * FROM hermitage WHERE id IN (1, 2)")
    s(1, "UPDATE hermitage SET value = 11 WHERE id = 1")
    s(2, "UPDATE hermitage SET value = 21 WHERE id = 2")
    return committed(s(1, "COMMIT"), s(2, "COMMIT"))


def g2(s: Session) -> bool:
    """Write skew on a predicate: both find no row with value % 3 = 0, both insert one, both commit."""
    s(1, "SELECT * FROM hermitage WHERE value % 3 = 0")
    s(2, "SELECT * FROM hermitage WHERE value % 3 = 0")
    s(1, "INSERT INTO hermitage VALUES (3, 30)")
    s(2, "INSERT INTO hermitage VALUES (4, 42)")
    return committed(s(1, "COMMIT"), s(2, "COMMIT"))


def g2_two_edges(s: Session) -> bool:
    """Read-only anomaly (Fekete et al.): read-only T3 sees T2's commit, T1 did not, and all commit."""
    s(1, "SELECT * FROM hermitage")
    s(2, "UPDATE hermitage SET value = value + 5 WHERE id = 2")
    t2 = s(2, "COMMIT")
    s(3, "SELECT * FROM hermitage")
    t3 = s(3, "COMMIT")
    s(1, "UPDATE hermitage SET value = 0 WHERE id = 1")
    return committed(t2, t3, s(1, "COMMIT"))


# --8<-- [end:g2]


# --8<-- [start:matrix]
TESTS: dict[str, Callable[[Session], bool]] = {
    "G0": g0, "G1a": g1a, "G1b": g1b, "G1c": g1c, "OTV": otv, "PMP": pmp, "PMP-write": pmp_write,
    "P4": p4, "G-single": g_single, "G-single-dep": g_single_dependencies, "G-single-write": g_single_write,
    "G2-item": g2_item, "G2": g2, "G2-two-edges": g2_two_edges,
}  # fmt: skip


def outcome(test: Callable[[Session], bool], level: str) -> str:
    """Run one test case at one level on a fresh table: 'occurs', or how PostgreSQL prevented it."""
    with psycopg.connect(DATABASE_URL, autocommit=True) as admin:
        admin.execute("DROP TABLE IF EXISTS hermitage")
        admin.execute("CREATE TABLE hermitage (id int PRIMARY KEY, value int)")
        admin.execute("INSERT INTO hermitage VALUES (1, 10), (2, 20)")
    session = Session(level)
    try:
        if test(session):
            return "occurs"
    finally:
        session.close()
    if any(step.error == "40001" for step in session.steps):
        return "prevented: 40001"  # serialization failure: the application retries
    return "prevented: waits" if any(step.waited for step in session.steps) else "prevented"


def matrix() -> dict[str, dict[str, str]]:
    return {name: {level: outcome(test, level) for level in LEVELS} for name, test in TESTS.items()}


def main() -> None:
    print(f"{'anomaly':<15}" + "".join(f"{level:<18}" for level in LEVELS).rstrip())
    for name, row in matrix().items():
        print(f"{name:<15}" + "".join(f"{row[level]:<18}" for level in LEVELS).rstrip())


if __name__ == "__main__":
    main()
# --8<-- [end:matrix]
