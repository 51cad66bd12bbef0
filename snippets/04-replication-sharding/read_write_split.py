"""Writes go to the primary, reads to the replica; the replica refuses writes.
Starts its own throwaway PostgreSQL 15 primary + synchronous streaming replica (removed on exit)."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import errors

# --8<-- [start:run]
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


# --8<-- [end:run]


# --8<-- [start:replica_pair]
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


# --8<-- [end:replica_pair]


# --8<-- [start:write_users]
def write_users(primary: str, names: list[str]) -> str:
    """Insert on the primary; return the WAL position (LSN) just after the commit."""
    with psycopg.connect(primary) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS users (id serial PRIMARY KEY, name text NOT NULL)")
        for name in names:
            conn.execute("INSERT INTO users (name) VALUES (%s)", [name])
        conn.commit()
        return str(conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0])  # type: ignore[index]


def wait_for_replay(replica: str, lsn: str, timeout: float = 10.0) -> None:
    """Read-your-writes on a replica: wait until it has replayed the WAL up to lsn."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(replica, autocommit=True) as conn:
        while not conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]).fetchone()[0]:  # type: ignore[index]
            if time.monotonic() > deadline:
                raise TimeoutError(f"replica has not replayed {lsn} after {timeout}s")
            time.sleep(0.01)


# --8<-- [end:write_users]


# --8<-- [start:read_users]
def read_users(replica: str) -> list[tuple[int, str]]:
    with psycopg.connect(replica) as conn:
        return conn.execute("SELECT id, name FROM users ORDER BY id").fetchall()


def write_to_replica(replica: str) -> None:
    with psycopg.connect(replica) as conn:
        conn.execute("INSERT INTO users (name) VALUES (%s)", ["mallory"])


def main() -> None:
    with replica_pair() as (primary, replica):
        with psycopg.connect(primary) as conn:
            q = "SELECT application_name, state, sync_state FROM pg_stat_replication"
            print("replicas of the primary:", conn.execute(q).fetchall())
        lsn = write_users(primary, ["alice", "bob", "carol"])
        wait_for_replay(replica, lsn)
        print("read from replica:", read_users(replica))
        try:
            write_to_replica(replica)
        except errors.ReadOnlySqlTransaction as e:
            print(f"write to replica refused: SQLSTATE {e.sqlstate}: {e}")
        print("rows on primary:", len(read_users(primary)), "| on replica:", len(read_users(replica)))


if __name__ == "__main__":
    main()
# --8<-- [end:read_users]
