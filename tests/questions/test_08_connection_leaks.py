"""Q8 proofs: a leak exhausts the pool, the fixes return every connection, monitoring sees it, the
server's guard ends idle transactions, and broken returns are never passed on."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest
from psycopg_pool import ConnectionPool, PoolTimeout

from verify.helpers import ROOT, eventually, load_snippet, sessions

leak = load_snippet("08-connection-leaks/leak.py")
fixes = load_snippet("08-connection-leaks/fixes.py")
one_shot = load_snippet("08-connection-leaks/one_shot.py")
monitor = load_snippet("08-connection-leaks/monitor.py")
idle_in_tx = load_snippet("08-connection-leaks/idle_in_tx.py")
bad_return = load_snippet("08-connection-leaks/bad_return.py")
held_leak = load_snippet("08-connection-leaks/held_leak.py")


@pytest.fixture
def notes(env: dict[str, str]) -> Iterator[ConnectionPool]:
    """A pool of 2 and an empty notes table."""
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS notes (body text)")
        conn.execute("TRUNCATE notes")
    with ConnectionPool(env["DATABASE_URL"], min_size=2, max_size=2, timeout=1.0) as pool:
        pool.wait()
        yield pool
        stats = pool.get_stats()
        assert stats["pool_available"] == stats["pool_size"] == 2  # every test gives everything back


def count_notes(pool: ConnectionPool, prefix: str = "") -> int:
    with pool.connection() as conn:
        row = conn.execute("SELECT count(*) FROM notes WHERE starts_with(body, %s)", [prefix]).fetchone()
    assert row is not None
    return int(row[0])


def test_leak_exhausts_the_pool_and_times_out(env: dict[str, str]) -> None:
    url = env["DATABASE_URL"]
    assert ConnectionPool(url, open=False).timeout == 30.0  # the default wait, were timeout not set
    pool = ConnectionPool(
        url, min_size=1, max_size=2, timeout=1.0, max_idle=0.2, kwargs={"application_name": leak.APP_NAME}, open=True
    )
    pool.wait()
    try:
        assert leak.bad_query(pool, 1) == (1,)
        assert leak.bad_query(pool, 2) == (2,)
        stats = pool.get_stats()
        assert (stats["pool_size"], stats["pool_available"]) == (2, 0)  # the pool thinks both are in use
        # ...but CPython already closed the dropped connections: the server lets them go
        eventually(lambda: sessions(url, leak.APP_NAME) == 0, what="leaked sessions gone on the server")
        assert pool.get_stats()["pool_available"] == 0  # while the pool still counts them as in use
        time.sleep(0.8)  # several max_idle periods: max_idle does not reclaim leaked connections
        with pytest.raises(PoolTimeout, match=r"after 1\.00 sec"):  # the configured timeout, then a clear error
            leak.bad_query(pool, 3)
        assert pool.get_stats()["requests_errors"] == 1
        assert pool.get_stats()["pool_size"] == 2  # and no replacement was ever opened
    finally:
        pool.close()


def test_try_finally_without_commit_loses_the_write(notes: ConnectionPool) -> None:
    conn = notes.getconn()
    try:
        conn.execute("INSERT INTO notes (body) VALUES (%s)", ["no commit"])
    finally:
        notes.putconn(conn)  # the literal translation of the seed's try/finally
    assert count_notes(notes, "no commit") == 0  # rolled back by the pool
    fixes.save_try_finally(notes, "with commit")
    assert count_notes(notes, "with commit") == 1


def test_fixes_never_exhaust_the_pool(notes: ConnectionPool) -> None:
    with pytest.raises(ValueError):
        fixes.save_with(notes, "rolled back", fail=True)
    assert count_notes(notes, "rolled back") == 0
    fixes.save_with(notes, "committed")
    assert count_notes(notes, "committed") == 1
    with pytest.raises(ZeroDivisionError):
        fixes.with_connection(notes, lambda conn: 1 / 0)  # the work fails: the connection still comes back
    assert fixes.with_connection(notes, lambda conn: conn.execute("SELECT 42").fetchone()) == (42,)
    for i in range(200):  # 100x more requests than connections, every 4th failing
        with contextlib.suppress(ValueError):
            fixes.save_with(notes, f"loop {i}", fail=i % 4 == 0)
    assert count_notes(notes, "loop") == 150
    assert notes.get_stats().get("requests_errors", 0) == 0  # nobody timed out waiting


def test_fixes_report_the_ratio_they_state(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    fixes.main()
    out = capsys.readouterr().out
    m = re.search(r"^(\d+) requests over (\d+) connections: (\d+) times as many$", out, re.M)
    assert m, out
    requests, connections, ratio = map(int, m.groups())
    assert (requests, connections) == (200, 2) and ratio == requests // connections == 100
    page = (ROOT / "docs/questions/08-connection-leaks.md").read_text(encoding="utf-8")
    stated = [int(n) for n in re.findall(r"(\d+) times more requests than connections", page)]
    assert stated == [ratio], "the page states the measured ratio"
    source = (ROOT / "snippets/08-connection-leaks/fixes.py").read_text(encoding="utf-8")
    assert not re.search(r"\d+ times", source), "no ratio typed into a comment"
    assert "(`requests_errors` 0)" in page and "'requests_errors': 0" in out


def test_one_shot_queries_cannot_hold_a_transaction(env: dict[str, str]) -> None:
    with ConnectionPool(env["DATABASE_URL"], min_size=2, max_size=2) as pool:
        pool.wait()
        q = one_shot.pool_query
        q(pool, "CREATE TABLE IF NOT EXISTS accounts (id text PRIMARY KEY, balance numeric(12, 2))", [])

        def reset() -> None:
            q(pool, "TRUNCATE accounts", [])
            q(pool, "INSERT INTO accounts VALUES ('A', 500), ('B', 100)", [])

        reset()
        pids = [q(pool, "SELECT pg_backend_pid()", [])[0][0] for _ in range(4)]
        assert len(set(pids)) == 2
        with pytest.raises(LookupError):
            one_shot.transfer_one_shot(pool, "A", "C", Decimal(100))
        assert one_shot.balances(pool) == "A=400.00, B=100.00"  # 100.00 vanished
        reset()
        with pytest.raises(LookupError):
            one_shot.transfer(pool, "A", "C", Decimal(100))
        assert one_shot.balances(pool) == "A=500.00, B=100.00"  # all or nothing
        one_shot.transfer(pool, "A", "B", Decimal(100))
        assert one_shot.balances(pool) == "A=400.00, B=200.00"  # and it does move money when it can
        reset()
        q(pool, "BEGIN", [])  # a BEGIN sent through one-shot calls does not span them:
        q(pool, one_shot.DEBIT, [Decimal(100), "A"])
        q(pool, "ROLLBACK", [])
        assert one_shot.balances(pool) == "A=400.00, B=100.00"  # the debit was committed regardless


def test_monitor_sees_exhaustion(env: dict[str, str]) -> None:
    with ConnectionPool(env["DATABASE_URL"], min_size=2, max_size=2, timeout=0.5) as pool:
        pool.wait()
        assert monitor.pool_health(pool).startswith("ok: 2 of 2")
        held = [pool.getconn(), pool.getconn()]
        assert monitor.pool_health(pool).startswith("ok: 0 of 2")  # busy is not exhausted
        failed: list[BaseException] = []

        def request() -> None:
            try:
                with pool.connection():
                    pass
            except PoolTimeout as e:
                failed.append(e)

        waiter = threading.Thread(target=request)
        waiter.start()
        eventually(lambda: pool.get_stats()["requests_waiting"] == 1, what="a queued request")
        assert monitor.pool_health(pool).startswith("WARNING: pool exhausted")
        waiter.join()  # nobody returns a connection: it times out
        assert len(failed) == 1 and pool.get_stats()["requests_errors"] == 1
        # Quirk: a request that gave up stays counted in requests_waiting until a connection comes back.
        assert pool.get_stats()["requests_waiting"] == 1
        for conn in held:
            pool.putconn(conn)
        assert monitor.pool_health(pool) == "ok: 2 of 2 available, 0 waiting"


def test_idle_in_transaction_guard_kills_the_session(env: dict[str, str]) -> None:
    url = env["DATABASE_URL"]
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS counters (id int PRIMARY KEY, n int NOT NULL)")
        conn.execute("INSERT INTO counters VALUES (1, 0) ON CONFLICT (id) DO UPDATE SET n = 0")
    kwargs = {"application_name": idle_in_tx.APP_NAME, "options": idle_in_tx.GUARD}
    with ConnectionPool(url, min_size=1, max_size=1, kwargs=kwargs) as pool, psycopg.connect(url) as other:
        other.execute("SET lock_timeout = '200ms'")
        other.commit()
        leaked = pool.getconn()
        leaked.execute("UPDATE counters SET n = n + 1 WHERE id = %s", [1])
        rows = idle_in_tx.idle_in_transaction(url)
        assert [(r[0], r[1]) for r in rows] == [(idle_in_tx.APP_NAME, "idle in transaction")]
        with pytest.raises(psycopg.errors.LockNotAvailable):  # it holds the row lock
            other.execute("UPDATE counters SET n = 100 WHERE id = %s", [1])
        other.rollback()
        eventually(lambda: not idle_in_tx.idle_in_transaction(url), what="the guard ending the session")
        eventually(lambda: sessions(url, idle_in_tx.APP_NAME) == 0, what="the killed session gone")
        other.execute("UPDATE counters SET n = n + 10 WHERE id = %s", [1])  # the lock is free now
        other.commit()
        with pytest.raises(psycopg.errors.IdleInTransactionSessionTimeout):
            leaked.execute("COMMIT")
        pool.putconn(leaked)
        with pool.connection() as fresh:
            assert fresh.execute("SELECT n FROM counters WHERE id = 1").fetchone() == (10,)  # its +1 is gone
        assert pool.get_stats()["returns_bad"] == 1


def test_broken_returns_are_cleaned_not_passed_on(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    url = env["DATABASE_URL"]
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS notes (body text)")
        conn.execute("TRUNCATE notes")
    with ConnectionPool(url, min_size=1, max_size=1) as pool:
        pids = {
            bad_return.careless_caller(pool, "half-done", fail=True),
            bad_return.next_caller(pool, "next 1"),
            bad_return.careless_caller(pool, "uncommitted", fail=False),
            bad_return.next_caller(pool, "next 2"),
        }
        assert len(pids) == 1  # the same session went to every caller
        out = capsys.readouterr().out
        assert "half-done: returned in state INERROR" in out and "uncommitted: returned in state INTRANS" in out
        assert out.count("got a connection in state IDLE") == 2
        with pool.connection() as conn:
            assert [r[0] for r in conn.execute("SELECT body FROM notes ORDER BY body")] == ["next 1", "next 2"]
        with psycopg.connect(url) as stranger, pytest.raises(ValueError, match="doesn't come from any pool"):
            pool.putconn(stranger)  # a connection the pool never lent out is refused...
        stats = pool.get_stats()
        assert (stats["pool_size"], stats["pool_available"]) == (1, 1)  # ...and the pool is intact
        with pool.connection() as conn:
            assert conn.info.backend_pid in pids


def test_a_held_leak_stays_idle_until_idle_session_timeout(env: dict[str, str]) -> None:
    url = env["DATABASE_URL"]
    kwargs = {"application_name": held_leak.APP_NAME, "options": held_leak.GUARDS}
    with ConnectionPool(url, min_size=1, max_size=1, timeout=0.5, kwargs=kwargs) as pool:
        assert held_leak.cached_lookup(pool, 1) == (1,)
        assert held_leak.sessions(url) == ["idle"]  # a referenced leak is on the server, idle
        assert pool.get_stats()["pool_available"] == 0
        start = time.monotonic()
        time.sleep(1.5)  # past idle_in_transaction_session_timeout (1 s): it does not apply
        assert held_leak.sessions(url) == ["idle"]
        eventually(lambda: held_leak.sessions(url) == [], what="idle_session_timeout ending the session")
        assert time.monotonic() - start >= 2.5  # ended by the 3 s idle guard, not before
        with pytest.raises(psycopg.errors.IdleSessionTimeout) as ended:
            held_leak.held[0].execute("SELECT 1")
        assert ended.value.sqlstate == "57P05"
        pool.putconn(held_leak.held.pop())
        with pool.connection() as fresh:
            assert fresh.execute("SELECT 1").fetchone() == (1,)
    guard = {"options": "-c idle_session_timeout=500", "application_name": "q8-idle-pool"}
    for check in (None, ConnectionPool.check_connection):  # the guard also ends a pool's healthy idle connections
        with ConnectionPool(url, min_size=1, max_size=1, kwargs=guard, check=check) as pool:
            pool.wait()
            eventually(lambda: sessions(url, "q8-idle-pool") == 0, what="the pool's idle connection ended")
            if check is None:
                with pytest.raises(psycopg.OperationalError), pool.connection() as conn:
                    conn.execute("SELECT 1")  # lent out dead
            else:
                with pool.connection() as conn:
                    assert conn.execute("SELECT 1").fetchone() == (1,)  # checked, replaced, served
