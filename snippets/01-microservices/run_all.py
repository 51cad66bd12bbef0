"""Start users, inventory, orders, the outbox relay and the consumer as processes; order; stop them all."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

# --8<-- [start:start]
HERE = Path(__file__).resolve().parent


def start(script: str, **env: str) -> subprocess.Popen[str]:
    """Run <script> beside this file; it stops when we close its stdin (or when we exit)."""
    return subprocess.Popen(
        [sys.executable, str(HERE / script)],
        env={**os.environ, **env},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def url_of(service: subprocess.Popen[str]) -> str:
    line = service.stdout.readline() if service.stdout else ""  # "<name> listening on http://127.0.0.1:PORT"
    if not line:
        raise RuntimeError(f"{service.args!r} exited before it listened")
    return line.split()[-1]


def stop(processes: list[subprocess.Popen[str]]) -> None:
    for p in processes:
        if p.stdin:
            p.stdin.close()
    for p in processes:
        p.wait(timeout=15)


# what the services and consumers create in their databases, <db>_orders and <db>_inventory
TABLES = {"orders": ["orders", "outbox"], "inventory": ["stock", "reservations", "processed_events"]}


def drop_last_run(base_db: str) -> None:
    """Drop the tables an earlier run left (each service creates its own again when it starts): every
    run orders from the same stock and prints the same."""
    with psycopg.connect(base_db) as conn:
        dbs = {service: f"{conn.info.dbname}_{service}" for service in TABLES}
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", [list(dbs.values())])
        found = {datname for (datname,) in rows}
    for service, tables in TABLES.items():
        if dbs[service] in found:  # not on a first run
            with psycopg.connect(make_conninfo(base_db, dbname=dbs[service]), autocommit=True) as db:
                db.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.SQL(", ").join(map(sql.Identifier, tables))))


def shown(r: httpx.Response) -> Any:
    body = r.json()
    if "status" in body:
        return body["status"]
    return body["detail"] if isinstance(body["detail"], str) else body["detail"][0]["msg"]


# --8<-- [end:start]


# --8<-- [start:main]
def main() -> None:
    base_db = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    drop_last_run(base_db)
    users, inventory = start("users_service.py"), start("inventory_service.py")
    procs = [users, inventory]
    try:
        orders = start("orders_service.py", USERS_URL=url_of(users), INVENTORY_URL=url_of(inventory))
        procs.append(orders)
        base = url_of(orders)  # it has created its database by now
        procs += [start("outbox_relay.py"), start("inventory_consumer.py"), start("orders_saga.py")]
        with httpx.Client(base_url=base, timeout=10) as client:
            for path, order in [
                ("/orders", {"user_id": 1, "sku": "widget", "qty": 2}),
                ("/orders", {"user_id": 999, "sku": "widget", "qty": 1}),
                ("/orders", {"user_id": 1, "sku": "gadget", "qty": 50}),
                ("/orders", {"user_id": 1, "sku": "widget", "qty": 0}),
                ("/orders/async", {"user_id": 2, "sku": "widget", "qty": 3}),
                ("/orders/async", {"user_id": 2, "sku": "gadget", "qty": 50}),
            ]:
                r = client.post(path, json=order)
                print(f"POST {path} {order} -> {r.status_code} {shown(r)}")
        with psycopg.connect(base_db) as conn:
            name = conn.info.dbname
        with psycopg.connect(make_conninfo(base_db, dbname=f"{name}_orders"), autocommit=True) as db:
            for _ in range(200):  # order.created -> relay -> RabbitMQ -> inventory -> stock.* -> orders
                rows = db.execute("SELECT sku, qty, status FROM orders ORDER BY sku, qty").fetchall()
                if all(status != "pending" for _, _, status in rows):
                    break
                time.sleep(0.05)
            print("orders:", rows)
        with psycopg.connect(make_conninfo(base_db, dbname=f"{name}_inventory")) as db:
            print("inventory stock:", db.execute("SELECT sku, qty FROM stock ORDER BY sku").fetchall())
    finally:
        stop(procs)


if __name__ == "__main__":
    main()
# --8<-- [end:main]
