"""Shared by tests/questions/test_04_replication_sharding.py and benchmarks/q04_*.py.

Each Q4 snippet is a self-contained program; tests and benchmarks import them with
``tests.conftest.load_snippet("04-replication-sharding/<name>.py")``.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

SNIPPETS = Path(__file__).resolve().parents[2] / "snippets" / "04-replication-sharding"


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def port_of(dsn: str) -> int:
    return int(dsn.rsplit(":", 1)[1].split("/")[0])


def in_background(target: object, *args: object) -> threading.Thread:
    t = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
    t.start()
    return t
