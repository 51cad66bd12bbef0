"""Shared by tests/questions/test_04_replication_sharding.py and benchmarks/q04_*.py.

The Q4 snippets import each other as siblings (``from pg_pair import replica_pair``), as a reader runs
them from their directory, so their directory goes on sys.path and they are imported by file name.
"""

from __future__ import annotations

import importlib
import socket
import sys
import threading
from pathlib import Path
from types import ModuleType

SNIPPETS = Path(__file__).resolve().parents[2] / "snippets" / "04-replication-sharding"


def snippet(name: str) -> ModuleType:
    """Import snippets/04-replication-sharding/<name>.py (its main() does not run)."""
    if str(SNIPPETS) not in sys.path:
        sys.path.insert(0, str(SNIPPETS))
    module = importlib.import_module(name)
    assert Path(module.__file__ or "").parent == SNIPPETS, f"{name} resolved to {module.__file__}"
    return module


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
