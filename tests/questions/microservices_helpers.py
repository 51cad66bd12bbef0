"""Shared by tests/questions/test_01_microservices.py and benchmarks/q01_latency.py: start the page's
services as real processes and reach their databases."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pika
import psycopg
from pika.exceptions import ChannelClosedByBroker
from psycopg.conninfo import make_conninfo

from verify.helpers import load_snippet

run_all = load_snippet("01-microservices/run_all.py")


@dataclass
class System:
    """users, inventory and orders, each a process with its own port and database."""

    env: dict[str, str]
    urls: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    def db(self, service: str) -> str:
        base = self.env["DATABASE_URL"]
        return make_conninfo(base, dbname=f"{urlsplit(base).path.lstrip('/')}_{service}")

    def query(self, service: str, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.db(service), autocommit=True) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def scalar(self, service: str, sql: str, params: list[Any] | None = None) -> Any:
        return self.query(service, sql, params)[0][0]

    @contextmanager
    def orders_instance(self, **env: str) -> Iterator[str]:
        """Another instance of the orders service (same database) with other settings."""
        settings = {"USERS_URL": self.urls["users"], "INVENTORY_URL": self.urls["inventory"], **env}
        proc = run_all.start("orders_service.py", **self.env, **settings)
        try:
            yield run_all.url_of(proc)
        finally:
            run_all.stop([proc])


@contextmanager
def running_system(env: dict[str, str]) -> Iterator[System]:
    system = System(env)
    users, inventory = run_all.start("users_service.py", **env), run_all.start("inventory_service.py", **env)
    system.processes += [users, inventory]
    try:
        system.urls["users"], system.urls["inventory"] = run_all.url_of(users), run_all.url_of(inventory)
        orders = run_all.start(
            "orders_service.py", **env, USERS_URL=system.urls["users"], INVENTORY_URL=system.urls["inventory"]
        )
        system.processes.append(orders)
        system.urls["orders"] = run_all.url_of(orders)
        yield system
    finally:
        run_all.stop(system.processes)


@contextmanager
def background(stop: threading.Event, *jobs: tuple[Callable[..., Any], tuple[Any, ...]]) -> Iterator[None]:
    """Run each (function, args) in a thread (the snippets' relay and consumers take a stop event)."""
    threads = [threading.Thread(target=f, args=args) for f, args in jobs]
    for t in threads:
        t.start()
    try:
        yield
    finally:
        stop.set()
        for t in threads:
            t.join(15)
    assert not [t for t in threads if t.is_alive()], "a worker did not stop"


def consumer_count(amqp_url: str, queue: str) -> int:
    """How many consumers a queue has; 0 while it does not exist yet."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return int(connection.channel().queue_declare(queue, passive=True).method.consumer_count or 0)
    except ChannelClosedByBroker as e:
        assert e.reply_code == 404, e
        return 0
    finally:
        connection.close()


def publish(amqp_url: str, exchange: str, routing_key: str, *bodies: bytes) -> None:
    """Publish each body, confirmed and mandatory: an unroutable one raises instead of vanishing."""
    with pika.BlockingConnection(pika.URLParameters(amqp_url)) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        for body in bodies:
            channel.basic_publish(exchange, routing_key, body, mandatory=True)


def drain(amqp_url: str, queue: str) -> list[tuple[bytes, dict[str, Any]]]:
    """Take every ready message out of a queue: (body, headers) in queue order."""
    taken = []
    with pika.BlockingConnection(pika.URLParameters(amqp_url)) as connection:
        channel = connection.channel()
        while (got := channel.basic_get(queue, auto_ack=True))[0] is not None:
            taken.append((got[2] or b"", dict(got[1].headers or {}) if got[1] else {}))
    return taken


class DripServer:
    """127.0.0.1:<port> answers every HTTP request with `201` and a JSON body, one byte every `interval`
    seconds (the status line and headers too, unless drip_headers is False): every read gets a byte in
    time, so no per-read timeout fires, but the response takes len(response) * interval to arrive."""

    def __init__(self, interval: float, body: bytes, drip_headers: bool = True) -> None:
        head = f"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        self.head, self.body, self.interval, self.drip_headers = head.encode(), body, interval, drip_headers
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def seconds(self) -> float:
        """How long one whole response takes to arrive (a pause after each dripped byte but the last)."""
        return self.interval * (len(self.body) + (len(self.head) if self.drip_headers else 0) - 1)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            self.connections += 1
            threading.Thread(target=self._answer, args=(client,), daemon=True).start()

    def _answer(self, client: socket.socket) -> None:
        with client, suppress(OSError):  # the client gave up and closed: fine
            request = b""
            while b"\r\n\r\n" not in request:
                request += client.recv(65536) or b"\r\n\r\n"
            head, _, body = request.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            while len(body) < length:
                body += client.recv(65536) or b" " * length
            if not self.drip_headers:
                client.sendall(self.head)
            for byte in (self.head if self.drip_headers else b"") + self.body:
                client.sendall(bytes([byte]))
                time.sleep(self.interval)

    def close(self) -> None:
        self.listener.close()
