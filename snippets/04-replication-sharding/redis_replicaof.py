"""Redis replication from the local redis-server binaries (removed on exit): REPLICAOF makes a replica
of a master; what each server calls itself, and what the replica answers to a write."""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import redis

PREFIX = os.environ.get("DEMO_PREFIX", "demo")


# --8<-- [start:servers]
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until(check: object, what: str) -> None:
    """Until check() is true (connection errors count as false); 30 s at most."""
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(redis.ConnectionError):
            if callable(check) and check():
                return
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


@contextlib.contextmanager
def master_and_replica() -> Iterator[tuple[redis.Redis, redis.Redis]]:
    """Two throwaway redis-servers; REPLICAOF turns the second into a replica of the first."""
    tmp = tempfile.mkdtemp(prefix="redis-replication-")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        ports = [free_port(), free_port()]
        for port in ports:
            os.mkdir(d := os.path.join(tmp, str(port)))
            command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--save", ""]
            procs.append(subprocess.Popen(command, stdout=subprocess.DEVNULL))
        master, replica = (redis.Redis(port=p, decode_responses=True) for p in ports)
        for server in (master, replica):
            wait_until(server.ping, "redis-server did not start")
        replica.replicaof("127.0.0.1", ports[0])  # SLAVEOF is its deprecated alias
        wait_until(lambda: replica.info("replication")["master_link_status"] == "up", "replica did not sync")
        yield master, replica
    finally:
        for proc in procs:
            proc.kill()  # throwaways: nothing to save
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


# --8<-- [end:servers]


# --8<-- [start:demo]
def main() -> None:
    with master_and_replica() as (master, replica):
        master.set(f"{PREFIX}:user:1", "alice")
        master.wait(1, 5000)  # until one replica has acknowledged the write (or 5 s)
        print("read from replica:", replica.get(f"{PREFIX}:user:1"))
        try:
            replica.set(f"{PREFIX}:user:2", "bob")
        except redis.ReadOnlyError as e:
            print("write to replica refused:", e)
        print("ROLE on the master: ", master.role()[0])
        print("ROLE on the replica:", replica.role()[0])
        print("INFO replication on the master: connected_slaves =", master.info("replication")["connected_slaves"])


if __name__ == "__main__":
    main()
# --8<-- [end:demo]
