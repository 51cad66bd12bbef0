"""A real 3-master Redis Cluster from the local redis-server binaries, removed on exit."""

import contextlib
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator

import redis


def free_port() -> int:
    """A free port p with p + 10000 free too (the cluster bus port), so p <= 55535."""
    while True:
        port = random.randint(20000, 40000)
        with contextlib.suppress(OSError), socket.socket() as a, socket.socket() as b:
            a.bind(("127.0.0.1", port))
            b.bind(("127.0.0.1", port + 10000))
            return port


def wait_until(check: Callable[[int], bool], port: int, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check(port):
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def answers(port: int) -> bool:
    with contextlib.suppress(redis.ConnectionError):
        return bool(redis.Redis(port=port).ping())
    return False


def cluster_ok(port: int) -> bool:
    return bool(redis.Redis(port=port).cluster("INFO").get("cluster_state") == "ok")


@contextlib.contextmanager
def redis_cluster(masters: int = 3) -> Iterator[list[int]]:
    """Yield the ports of the masters; the servers are our children and stop when the block ends."""
    tmp = tempfile.mkdtemp(prefix="redis-cluster-")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        ports = [free_port() for _ in range(masters)]
        for port in ports:
            os.mkdir(d := os.path.join(tmp, str(port)))
            procs.append(subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", "nodes.conf", "--dir", d, "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL))
        for port in ports:
            wait_until(answers, port, f"redis-server on port {port} did not start")
        subprocess.run(["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports), "--cluster-yes"],
                       check=True, capture_output=True, timeout=60)
        for port in ports:
            wait_until(cluster_ok, port, "the cluster did not reach cluster_state:ok")
        yield ports
    finally:
        for proc in procs:
            proc.kill()  # a throwaway: nothing to save
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
