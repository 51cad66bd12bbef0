"""A stale read made deterministic by pausing WAL replay; lag; synchronous_commit on vs remote_apply.
Starts its own throwaway PostgreSQL 15 primary + synchronous streaming replica (removed on exit)."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))  # elsewhere: PG_BIN=$(pg_config --bindir)
USER = os.environ.get("PG_OS_USER", "postgres") if os.geteuid() == 0 else None  # postgres refuses to run as root


def run(*cmd: object) -> None:
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True, user=USER)


def start(data: Path, settings: dict[str, str], procs: list[subprocess.Popen[bytes]]) -> str:
    """Append settings (later lines win), run postgres as our child, return its DSN once it answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (data / "postgresql.auto.conf").open("a") as f:
        f.writelines(f"{k} = '{v}'\n" for k, v in {**settings, "port": str(port)}.items())
    with (log := data.parent / f"{data.name}.log").open("w") as f:
        procs.append(subprocess.Popen([BIN / "postgres", "-D", data], user=USER, stderr=f))
    dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    for _ in range(600):
        with contextlib.suppress(psycopg.OperationalError):
            psycopg.connect(dsn, connect_timeout=1).close()
            return dsn
        time.sleep(0.05)
    raise RuntimeError(f"{data.name} did not start:\n{log.read_text()[-2000:]}")


@contextlib.contextmanager
def replica_pair(synchronous: bool = True, settings: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """Yield (primary DSN, replica DSN): the replica is the standby 'replica1', synchronous or not;
    settings go to both servers' configuration. Both servers are stopped and removed afterwards."""
    tmp, procs = Path(tempfile.mkdtemp(prefix="pg-pair-")), list[subprocess.Popen[bytes]]()
    try:
        if USER:
            shutil.chown(tmp, USER)
        run(BIN / "initdb", "-D", tmp / "primary", "-U", "postgres", "--auth=trust", "--no-sync")
        with (tmp / "primary" / "pg_hba.conf").open("a") as f:
            f.write("host replication all 127.0.0.1/32 trust\n")
        primary = start(
            tmp / "primary",
            {
                "listen_addresses": "127.0.0.1",
                "unix_socket_directories": str(tmp),
                "fsync": "off",  # only because the data is thrown away
                "synchronous_standby_names": "replica1" if synchronous else "",
                **(settings or {}),
            },
            procs,
        )
        port = primary.split(":")[2].split("/")[0]
        run(
            BIN / "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-U",
            "postgres",
            "-D",
            tmp / "replica",
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",
            "--no-sync",
        )  # -R: the copy starts as a standby
        conninfo = f"host=127.0.0.1 port={port} user=postgres application_name=replica1"
        replica = start(tmp / "replica", {"primary_conninfo": conninfo}, procs)
        with psycopg.connect(primary, autocommit=True) as conn:  # wait until the primary counts the replica in
            q = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND sync_state = %s"
            for _ in range(600):
                if conn.execute(q, ["sync" if synchronous else "async"]).fetchone() == (1,):
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError("the replica did not start streaming within 30 s")
        yield primary, replica
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGINT)  # SIGINT: fast shutdown
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


# --8<-- [start:lag]
LAG = "SELECT application_name, pg_wal_lsn_diff(flush_lsn, replay_lsn) > 0 AS replay_behind FROM pg_stat_replication"
RECEIVED = "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()"
WAITING = "SELECT wait_event FROM pg_stat_activity WHERE query LIKE 'UPDATE prices%' AND state = 'active'"


def one(dsn: str, query: str) -> object:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(query).fetchone()


def set_replay(replica: str, paused: bool) -> None:
    with psycopg.connect(replica, autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")
        while paused and conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone() != ("paused",):
            time.sleep(0.01)


# --8<-- [end:lag]


# --8<-- [start:set_price]
def set_price(primary: str, price: int, level: str = "on") -> None:
    """UPDATE on the primary, committed with this synchronous_commit level."""
    with psycopg.connect(primary, autocommit=True) as conn:
        conn.execute("SELECT set_config('synchronous_commit', %s, false)", [level])
        conn.execute("UPDATE prices SET price = %s WHERE item = 'book'", [price])


def get_price(dsn: str) -> int:
    return int(one(dsn, "SELECT price FROM prices WHERE item = 'book'")[0])  # type: ignore[index]


def create_prices(primary: str) -> None:
    with psycopg.connect(primary) as conn:
        conn.execute("CREATE TABLE prices (item text PRIMARY KEY, price int NOT NULL)")
        conn.execute("INSERT INTO prices VALUES ('book', 10)")
    set_price(primary, 10, "remote_apply")  # returns once the replica has applied it


def waiting_for(primary: str, timeout: float = 10.0) -> str | None:
    """'SyncRep' once an UPDATE on the primary waits for the replica; None if none does within timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if one(primary, WAITING) == ("SyncRep",):
            return "SyncRep"
        time.sleep(0.01)
    return None


def main() -> None:
    with replica_pair() as (primary, replica):
        create_prices(primary)
        set_replay(replica, paused=True)
        set_price(primary, 11, "on")  # returns: the replica has flushed the WAL, replay is paused
        print("on:           primary", get_price(primary), "| replica", get_price(replica), "(stale)")
        print("  pg_stat_replication on the primary:", one(primary, LAG))
        print("  replica received more than it replayed:", one(replica, RECEIVED))
        commit = threading.Thread(target=set_price, args=(primary, 12, "remote_apply"))
        commit.start()
        print(
            "remote_apply: commit waits on",
            waiting_for(primary),
            "| primary",
            get_price(primary),
            "| replica",
            get_price(replica),
        )
        set_replay(replica, paused=False)
        commit.join(timeout=10)
        print(
            "  replay resumed: commit returned",
            not commit.is_alive(),
            "| primary",
            get_price(primary),
            "| replica",
            get_price(replica),
        )


if __name__ == "__main__":
    main()
# --8<-- [end:set_price]
