"""Shared by tests/questions/test_03_message_queues.py and benchmarks/q03_*.py: importing the Q3
snippets, RabbitMQ channels and queue depths, waiting for a condition, a process tree, and a
throwaway RabbitMQ node a test may kill -9."""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import ChannelClosedByBroker

SNIPPETS = Path(__file__).resolve().parents[2] / "snippets" / "03-message-queues"


def import_snippets(*names: str) -> list[ModuleType]:
    """Import snippets as the top-level modules they are (jobs_demo does `import jobs`), fresh, so they
    read the current os.environ (the throwaway space)."""
    if str(SNIPPETS) not in sys.path:
        sys.path.insert(0, str(SNIPPETS))
    for name in names:
        sys.modules.pop(name, None)
    modules = [importlib.import_module(name) for name in names]
    for m in modules:
        assert Path(m.__file__ or "").parent == SNIPPETS, f"{m.__name__} imported from {m.__file__}"
    return modules


@contextmanager
def channel(env: dict[str, str]) -> Iterator[BlockingChannel]:
    conn = pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"]))
    try:
        yield conn.channel()
    finally:
        conn.close()


def depth(env: dict[str, str], queue: str) -> int:
    """Ready messages in a queue (unacked ones are not counted)."""
    with channel(env) as ch:
        return int(ch.queue_declare(queue, passive=True).method.message_count or 0)


def exists(env: dict[str, str], queue: str) -> bool:
    try:
        depth(env, queue)
    except ChannelClosedByBroker as e:
        assert e.reply_code == 404, e
        return False
    return True


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for: {what}")
        time.sleep(0.02)


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """os.environ set to a space's env (for benchmarks: the snippets and their worker read it)."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def descendants(pid: int) -> list[int]:
    """pid's child processes, recursively (from /proc), so a test can SIGKILL a whole worker."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThrowawayRabbit:
    """A second RabbitMQ node of our own (own name, free ports, data in a temp dir, run as the
    rabbitmq user from the local install) that a test may kill -9 and restart. The shared broker is
    never touched."""

    def __init__(self) -> None:
        if not RABBITMQ_SERVER.exists() or os.geteuid() != 0:
            raise RuntimeError(f"a throwaway broker needs root and the local {RABBITMQ_SERVER}")
        self.dir = Path(tempfile.mkdtemp(prefix="q03-rabbit-"))
        shutil.chown(self.dir, "rabbitmq")
        self.port, dist = free_port(), free_port()
        (self.dir / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        (self.dir / "enabled_plugins").write_text("[].\n")
        self.env = {
            "HOME": "/var/lib/rabbitmq",
            "RABBITMQ_NODENAME": f"q03tmp{self.port}@localhost",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(dist),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_PID_FILE": str(self.dir / "pid"),
            "ERL_CRASH_DUMP": str(self.dir / "erl_crash.dump"),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def start(self, timeout: float = 90.0) -> None:
        (self.dir / "pid").unlink(missing_ok=True)
        env = [f"{k}={v}" for k, v in self.env.items()]
        cmd = ["runuser", "-u", "rabbitmq", "--", "env", *env, str(RABBITMQ_SERVER)]
        with open(self.dir / "server.out", "ab") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=self.dir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                pika.BlockingConnection(pika.URLParameters(self.url)).close()
                return
            except pika.exceptions.AMQPError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"throwaway RabbitMQ did not start: see {self.dir}/server.out") from None
                time.sleep(0.5)

    def kill9(self) -> None:
        """SIGKILL the broker (the beam process, from its pid file) and wait until it is gone."""
        assert self.proc is not None
        os.kill(int((self.dir / "pid").read_text().split()[0]), signal.SIGKILL)
        self.proc.wait(timeout=60)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                os.kill(int((self.dir / "pid").read_text().split()[0]), signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group we started, whatever is left of it
            self.proc.wait(timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def throwaway_rabbit() -> Iterator[ThrowawayRabbit]:
    rabbit = ThrowawayRabbit()
    try:
        rabbit.start()
        yield rabbit
    finally:
        rabbit.close()


class ThrowawayRedis:
    """A redis-server of our own on a free port with its data in a temp dir (never the shared 6379),
    with AOF on or off, that a test may kill -9 and restart on the same port and data."""

    def __init__(self, appendonly: bool) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="q03-redis-"))
        self.port, self.appendonly = free_port(), appendonly
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        cmd = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.dir),
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--daemonize",
            "no",
            "--logfile",
            str(self.dir / "redis.log"),
        ]  # snapshots (save): the compiled-in defaults
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"throwaway redis-server did not start: see {self.dir}/redis.log")
            time.sleep(0.05)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL: no shutdown save, no flush
        assert self.proc.wait(timeout=30) == -signal.SIGKILL

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def throwaway_redis(appendonly: bool) -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis(appendonly)
    try:
        server.start()
        yield server
    finally:
        server.close()
