"""A throwaway PostgreSQL 15 primary + streaming replica on free ports, removed on exit."""

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

BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))  # elsewhere: PG_BIN=$(pg_config --bindir)
# PostgreSQL refuses to run as root: as root, run it as the OS user that owns the binaries.
USER = os.environ.get("PG_OS_USER", "postgres") if os.geteuid() == 0 else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(*cmd: object) -> None:
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True, user=USER)


def configure(data: Path, settings: dict[str, str]) -> None:
    with (data / "postgresql.auto.conf").open("a") as f:  # later lines win
        f.writelines(f"{k} = '{v}'\n" for k, v in settings.items())


def start(data: Path, procs: list[subprocess.Popen[bytes]]) -> str:
    """Run postgres as our child (in our process group, so killing the group kills it); wait until it answers."""
    log = data.parent / f"{data.name}.log"
    with log.open("w") as f:
        procs.append(subprocess.Popen([BIN / "postgres", "-D", data], user=USER, stderr=f))
    conf = (data / "postgresql.auto.conf").read_text().splitlines()
    port = [ln.split("'")[1] for ln in conf if ln.startswith("port")][-1]
    dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    for _ in range(600):
        with contextlib.suppress(psycopg.OperationalError):
            psycopg.connect(dsn, connect_timeout=1).close()
            return dsn
        if procs[-1].poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"{data.name} did not start:\n{log.read_text()[-2000:]}")


@contextlib.contextmanager
def replica_pair(synchronous: bool = True, settings: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """Yield (primary_dsn, replica_dsn); the replica is a standby named 'replica1' (synchronous or not);
    settings: more postgresql.conf settings (the replica copies the primary's)."""
    tmp = Path(tempfile.mkdtemp(prefix="pg-pair-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        if USER:
            shutil.chown(tmp, USER)
        primary, replica = tmp / "primary", tmp / "replica"
        run(BIN / "initdb", "-D", primary, "-U", "postgres", "--auth=trust", "--no-sync")
        with (primary / "pg_hba.conf").open("a") as f:
            f.write("host replication all 127.0.0.1/32 trust\n")
        base = {"listen_addresses": "127.0.0.1", "unix_socket_directories": str(tmp), "fsync": "off"}
        configure(primary, {**base, **(settings or {}), "port": str(free_port()),
                            "synchronous_standby_names": "replica1" if synchronous else ""})
        primary_dsn = start(primary, procs)
        port = primary_dsn.split(":")[-1].split("/")[0]
        run(BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-D", replica,
            "-R", "-X", "stream", "--checkpoint=fast", "--no-sync")
        configure(replica, {"port": str(free_port()),
                            "primary_conninfo": f"host=127.0.0.1 port={port} user=postgres application_name=replica1"})
        replica_dsn = start(replica, procs)
        with psycopg.connect(primary_dsn) as conn:  # wait until the primary counts the replica in
            want = "sync" if synchronous else "async"
            q = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND sync_state = %s"
            for _ in range(600):
                if conn.execute(q, [want]).fetchone() == (1,):
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError("the replica did not start streaming within 30 s")
        yield primary_dsn, replica_dsn
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGINT)  # SIGINT: fast shutdown
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
