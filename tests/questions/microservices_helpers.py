"""Shared by tests/questions/test_01_microservices.py and benchmarks/q01_latency.py: start the page's
services as real processes and reach their databases."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import psycopg
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
        orders = run_all.start("orders_service.py", **env, USERS_URL=system.urls["users"],
                               INVENTORY_URL=system.urls["inventory"])
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
