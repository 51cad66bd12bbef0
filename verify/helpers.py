"""What the proofs (tests/questions/) and the benchmarks share: loading a snippet, waiting for a
condition, the environment of a space, ports, RabbitMQ queue depths, PostgreSQL sessions, a process tree,
and throwaway infrastructure of our own (a RabbitMQ node or a redis-server that may be killed, a TCP
proxy that can be cut).
The shared services are never reconfigured, stopped or restarted from here."""

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
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pika
import psycopg
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import ChannelClosedByBroker

from verify.spaces import RABBITMQ_SERVER

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = ROOT / "snippets"
T = TypeVar("T")


def load_snippet(relpath: str) -> ModuleType:
    """Import snippets/<relpath> afresh, as the top-level module a reader's ``python`` would make of it:
    its folder first on sys.path, so it imports its siblings (``import jobs``) as they are; its
    ``if __name__ == "__main__"`` part does not run. Fresh each call, so it reads the current os.environ."""
    path = (SNIPPETS / relpath).resolve()
    folder = str(path.parent)
    if folder in sys.path:
        sys.path.remove(folder)
    sys.path.insert(0, folder)
    for name, module in list(sys.modules.items()):  # another page's snippet of the same name must not win
        origin = Path(getattr(module, "__file__", None) or "/")
        if name == path.stem or (origin.is_relative_to(SNIPPETS) and origin.parent != path.parent):
            del sys.modules[name]
    module = importlib.import_module(path.stem)
    assert Path(module.__file__ or "") == path, f"{path.stem} imported from {module.__file__}"
    return module


def eventually(check: Callable[[], T], what: str = "condition", timeout: float = 30.0) -> T:
    """Poll until check() is truthy and return it; fail the test (not hang) after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for: {what}")
        time.sleep(0.02)


def once(record: Path, make: Callable[[], Any]) -> Any:
    """make()'s value (JSON), made by the first process that asks for it and read back from `record` by
    every other one: xdist workers sharing the folder wait for it instead of making it again."""
    import fcntl
    import json

    record.parent.mkdir(parents=True, exist_ok=True)
    with open(record.with_name(record.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if not record.is_file():
            record.write_text(json.dumps(make()), encoding="utf-8")
        return json.loads(record.read_text(encoding="utf-8"))


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """os.environ with env set (a space's DATABASE_URL ...), restored afterwards: snippets and the workers
    they start read it."""
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


# ports


def free_port() -> int:
    """A port nothing listens on right now: connections to it are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def port_of(dsn: str) -> int:
    return int(dsn.rsplit(":", 1)[1].split("/")[0])


def with_port(url: str, port: int) -> str:
    """url pointing at 127.0.0.1:port instead, credentials and path kept."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit((parts.scheme, f"{netloc[0]}@{host}" if len(netloc) == 2 else host, parts.path, "", ""))


@contextmanager
def black_hole() -> Iterator[int]:
    """A port that accepts TCP connections (in the kernel backlog) and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as s:
        yield int(s.getsockname()[1])


def in_background(target: Callable[..., Any], *args: Any) -> threading.Thread:
    t = threading.Thread(target=target, args=args, daemon=True)
    t.start()
    return t


# the services, seen from outside


def sessions(url: str, app_name: str, state: str | None = None) -> int:
    """PostgreSQL sessions in url's database with this application_name (optionally in one state)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = %s AND (%s::text IS NULL OR state = %s::text)",
            [app_name, state, state],
        ).fetchone()
    assert row is not None
    return int(row[0])


@contextmanager
def channel(env: dict[str, str]) -> Iterator[BlockingChannel]:
    conn = pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"]))
    try:
        yield conn.channel()
    finally:
        conn.close()


def depth(env: dict[str, str], queue: str) -> int:
    """Ready messages in a RabbitMQ queue (unacked ones are not counted)."""
    with channel(env) as ch:
        return int(ch.queue_declare(queue, passive=True).method.message_count or 0)


def exists(env: dict[str, str], queue: str) -> bool:
    try:
        depth(env, queue)
    except ChannelClosedByBroker as e:
        assert e.reply_code == 404, e
        return False
    return True


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


# throwaway infrastructure of our own


class ThrowawayRabbit:
    """A second RabbitMQ node of our own (own name, free ports, data in a temp dir, run as the
    rabbitmq user from the local install) that a test may kill -9 and restart. The shared broker is
    never touched."""

    def __init__(self) -> None:
        if not RABBITMQ_SERVER.exists() or os.geteuid() != 0:
            raise RuntimeError(f"a throwaway broker needs root and the local {RABBITMQ_SERVER}")
        self.dir = Path(tempfile.mkdtemp(prefix="throwaway-rabbit-"))
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
        self.dir = Path(tempfile.mkdtemp(prefix="throwaway-redis-"))
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


class TcpProxy:
    """127.0.0.1:<port> -> target. cut() drops every connection and refuses new ones until restore():
    a network partition between one client and a server, without touching the shared server."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.up = True
        self.refused = 0
        self.accepted = 0  # connections passed through to the target
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # listener closed
            if not self.up:
                self.refused += 1
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
                self.accepted += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up = False
        with self.lock:
            for s in self.sockets:
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.sockets.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.listener.close()
        self.cut()
