"""Proofs for docs/questions/01-microservices.md: the page's services run as real processes, each on
its own port with its own PostgreSQL database; the outbox relay talks to the real RabbitMQ."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pika
import psycopg
import pytest
from pika.exceptions import AMQPConnectionError

from tests.questions.microservices_helpers import (
    DripServer,
    System,
    background,
    consumer_count,
    drain,
    publish,
    running_system,
)
from verify.helpers import TcpProxy, black_hole, eventually, free_port, load_snippet, with_port

relay = load_snippet("01-microservices/outbox_relay.py")
consumer = load_snippet("01-microservices/inventory_consumer.py")
saga = load_snippet("01-microservices/orders_saga.py")
orders_service = load_snippet("01-microservices/orders_service.py")

CIRCUIT_OPEN = "inventory unavailable (circuit open), retry later"
ASYNC_SKU, ASYNC_STOCK = "async-widget", 1000  # only the asynchronous path's orders touch this stock row


@pytest.fixture(scope="module")
def system(env: dict[str, str]) -> Iterator[System]:
    with running_system(env) as s:
        s.query("inventory", "INSERT INTO stock VALUES (%s, %s), ('limited', 5)", [ASYNC_SKU, ASYNC_STOCK])
        yield s


@pytest.fixture(scope="module")
def cut_off_orders(system: System) -> Iterator[str]:
    """A second orders instance whose inventory is down: nothing listens on its port."""
    with system.orders_instance(INVENTORY_URL=f"http://127.0.0.1:{free_port()}") as url:
        yield url


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=15) as c:  # a hanging service would fail the test here, not hang it
        yield c


def snapshot(system: System) -> tuple[Any, ...]:
    """Everything a refused order must leave unchanged."""
    return (
        system.query("orders", "SELECT count(*) FROM orders")[0],
        system.query("orders", "SELECT count(*) FROM outbox")[0],
        tuple(system.query("inventory", "SELECT sku, qty FROM stock ORDER BY sku")),
        system.query("inventory", "SELECT count(*) FROM reservations")[0],
    )


def test_each_service_has_its_own_database(system: System) -> None:
    tables = {
        s: {t for (t,) in system.query(s, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        for s in ("users", "inventory", "orders")
    }
    assert tables["users"] == {"users"}
    assert {"stock", "reservations"} <= tables["inventory"] and not tables["inventory"] & {"users", "orders"}
    assert tables["orders"] == {"orders", "outbox"}
    assert len({system.db(s) for s in tables}) == 3


def test_sync_order_is_confirmed_after_user_check_and_reservation(system: System, client: httpx.Client) -> None:
    before = system.scalar("inventory", "SELECT qty FROM stock WHERE sku = 'widget'")
    r = client.post(f"{system.urls['orders']}/orders", json={"user_id": 1, "sku": "widget", "qty": 2})
    assert r.status_code == 201, r.text
    order_id = r.json()["id"]
    assert system.query("orders", "SELECT status, qty FROM orders WHERE id = %s", [order_id]) == [("confirmed", 2)]
    assert system.query("inventory", "SELECT qty FROM reservations WHERE order_id = %s", [order_id]) == [(2,)]
    assert system.scalar("inventory", "SELECT qty FROM stock WHERE sku = 'widget'") == before - 2


@pytest.mark.parametrize(
    ("order", "status", "detail"),
    [
        ({"user_id": 999, "sku": "widget", "qty": 1}, 422, "unknown user 999"),
        ({"user_id": 1, "sku": "gadget", "qty": 50}, 409, "not enough gadget in stock"),
        ({"user_id": 1, "sku": "nothing-like-it", "qty": 1}, 409, "not enough nothing-like-it in stock"),
    ],
)
def test_refused_orders_write_nothing_anywhere(
    system: System, client: httpx.Client, order: dict[str, Any], status: int, detail: str
) -> None:
    before = snapshot(system)
    r = client.post(f"{system.urls['orders']}/orders", json=order)
    assert (r.status_code, r.json()["detail"]) == (status, detail)
    assert snapshot(system) == before


@pytest.mark.parametrize(
    "order",
    [
        {"user_id": 1, "sku": "widget", "qty": 0},
        {"user_id": 1, "sku": "widget", "qty": -3},
        {"user_id": 1, "sku": "widget"},
        {"user_id": "abc", "sku": "widget", "qty": 1},
        {"user_id": 1, "sku": "x" * 41, "qty": 1},
        {"user_id": 1, "sku": "", "qty": 1},
    ],
)
@pytest.mark.parametrize("path", ["/orders", "/orders/async"])
def test_bad_input_is_refused_with_a_reason_and_writes_nothing(
    system: System, client: httpx.Client, path: str, order: dict[str, Any]
) -> None:
    before = snapshot(system)
    r = client.post(f"{system.urls['orders']}{path}", json=order)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][0] == "body" and r.json()["detail"][0]["msg"]
    assert snapshot(system) == before


def test_concurrent_orders_never_oversell(system: System, client: httpx.Client) -> None:
    """20 buyers, 5 in stock: the reservation is one conditional UPDATE, not check-then-act."""

    def buy(_: int) -> int:
        body = {"user_id": 2, "sku": "limited", "qty": 1}
        return client.post(f"{system.urls['orders']}/orders", json=body).status_code

    with ThreadPoolExecutor(20) as pool:
        codes = sorted(pool.map(buy, range(20)))
    assert codes == [201] * 5 + [409] * 15
    assert system.scalar("inventory", "SELECT qty FROM stock WHERE sku = 'limited'") == 0
    assert system.scalar("orders", "SELECT count(*) FROM orders WHERE sku = 'limited'") == 5
    assert system.scalar("inventory", "SELECT count(*) FROM reservations WHERE sku = 'limited'") == 5


def test_inventory_down_gives_503_and_no_order(system: System, client: httpx.Client, cut_off_orders: str) -> None:
    before = snapshot(system)
    r = client.post(f"{cut_off_orders}/orders", json={"user_id": 1, "sku": "widget", "qty": 1})
    assert (r.status_code, r.json()["detail"]) == (503, "inventory unavailable (ConnectError), retry later")
    assert snapshot(system) == before


def test_inventory_that_never_answers_gives_503_not_a_hang(system: System, client: httpx.Client) -> None:
    with black_hole() as port, system.orders_instance(INVENTORY_URL=f"http://127.0.0.1:{port}") as orders:
        before = snapshot(system)
        r = client.post(f"{orders}/orders", json={"user_id": 1, "sku": "widget", "qty": 1})  # client timeout 15 s
        assert (r.status_code, r.json()["detail"]) == (503, "inventory unavailable (timed out), retry later")
        assert r.elapsed.total_seconds() < 2 * orders_service.CALL_S + 0.5  # users, then inventory: each bounded
        assert snapshot(system) == before


def test_httpx_timeout_bounds_each_read_not_the_response() -> None:
    """The common belief: httpx.Timeout(1.0) gives a server 1 s to answer. It bounds each network read:
    a body dripped one byte every 0.3 s never trips it, and the response takes as long as the server likes."""
    drip = DripServer(interval=0.3, body=b'{"ok": 1}', drip_headers=False)
    try:
        with httpx.Client(timeout=httpx.Timeout(1.0, connect=0.5)) as plain:
            r = plain.post(f"http://127.0.0.1:{drip.port}/reservations", json={})
    finally:
        drip.close()
    assert r.status_code == 201 and r.json() == {"ok": 1}
    assert r.elapsed.total_seconds() >= drip.seconds > 2 * 1.0  # answered, after more than twice the "timeout"


def test_a_dripping_inventory_gets_503_within_the_call_deadline(system: System, client: httpx.Client) -> None:
    """The orders service bounds a whole call (every try, status line to last byte) by CALL_S: an inventory
    that drips its 201 byte by byte (a response that would take half a minute) gets a 503 within the deadlines."""
    drip = DripServer(interval=0.3, body=b'{"order_id": "x", "sku": "widget", "qty": 1}')
    try:
        with system.orders_instance(INVENTORY_URL=f"http://127.0.0.1:{drip.port}") as orders:
            before = snapshot(system)
            r = client.post(f"{orders}/orders", json={"user_id": 1, "sku": "widget", "qty": 1})
            assert (r.status_code, r.json()["detail"]) == (503, "inventory unavailable (timed out), retry later")
            assert snapshot(system) == before
    finally:
        drip.close()
    assert drip.seconds > 20  # what waiting for the response would have cost
    assert r.elapsed.total_seconds() < 2 * orders_service.CALL_S + 0.5  # users, then inventory: each bounded
    assert 1 <= drip.connections <= 3  # the tries that fit in the deadline


def test_inventory_500_creates_no_order_and_opens_the_circuit(system: System, client: httpx.Client) -> None:
    order = {"user_id": 1, "sku": "widget", "qty": 1}
    with system.orders_instance(BREAKER_RESET_S="5") as orders:  # long enough for the checks below
        system.query("inventory", "ALTER TABLE stock RENAME TO stock_broken")  # the real service now fails
        try:
            probe = {"order_id": str(uuid.uuid4()), "sku": "widget", "qty": 1}
            assert client.post(f"{system.urls['inventory']}/reservations", json=probe).status_code == 500
            before = system.query("orders", "SELECT count(*) FROM orders")
            first = client.post(f"{orders}/orders", json=order)  # 3 attempts, 3 failures
            assert (first.status_code, first.json()["detail"]) == (503, "inventory unavailable (HTTP 500), retry later")
            second = client.post(f"{orders}/orders", json=order)  # failures 4 and 5: the breaker opens
            assert (second.status_code, second.json()["detail"]) == (503, CIRCUIT_OPEN)
            assert system.query("orders", "SELECT count(*) FROM orders") == before
            assert (
                system.scalar("inventory", "SELECT count(*) FROM reservations WHERE order_id = %s", [probe["order_id"]])
                == 0
            )
        finally:
            system.query("inventory", "ALTER TABLE stock_broken RENAME TO stock")
        # inventory is healthy again, but the open circuit answers at once without calling it...
        third = client.post(f"{orders}/orders", json=order)
        assert (third.status_code, third.json()["detail"]) == (503, CIRCUIT_OPEN)
        assert system.query("orders", "SELECT count(*) FROM orders") == before
        # ...until its reset timeout lets a trial call through, which closes it again
        recovered = eventually(
            lambda: client.post(f"{orders}/orders", json=order).status_code == 201,
            timeout=20,
            what="recovery after the circuit's reset timeout",
        )
        assert recovered


def test_async_order_is_accepted_while_inventory_is_down(
    system: System, client: httpx.Client, cut_off_orders: str
) -> None:
    r = client.post(f"{cut_off_orders}/orders/async", json={"user_id": 1, "sku": ASYNC_SKU, "qty": 1})
    assert (r.status_code, r.json()["status"]) == (202, "pending")
    order_id = r.json()["id"]
    assert system.query("orders", "SELECT status FROM orders WHERE id = %s", [order_id]) == [("pending",)]
    assert system.scalar("orders", "SELECT count(*) FROM outbox WHERE payload->>'order_id' = %s", [order_id]) == 1


def outbox_state(system: System) -> tuple[int, int]:
    """(events in the outbox, events not yet confirmed by the broker)"""
    row = system.query("orders", "SELECT count(*), count(*) FILTER (WHERE published_at IS NULL) FROM outbox")[0]
    return int(row[0]), int(row[1])


def test_outbox_delivers_every_event_once_across_a_broker_outage(
    system: System, env: dict[str, str], client: httpx.Client
) -> None:
    amqp = pika.URLParameters(env["AMQP_URL"])
    proxy = TcpProxy((amqp.host, amqp.port))
    stop, failures, deliveries, replies = threading.Event(), list[str](), list[str](), list[str]()
    prefix = env["DEMO_PREFIX"]
    try:
        with background(
            stop,
            (consumer.run, (system.db("inventory"), env["AMQP_URL"], prefix, stop, deliveries)),
            (saga.run, (system.db("orders"), env["AMQP_URL"], prefix, stop, replies)),
            (
                relay.run,
                (system.db("orders"), with_port(env["AMQP_URL"], proxy.port), f"{prefix}.orders", stop, failures),
            ),
        ):

            def place(n: int) -> None:
                for i in range(n):
                    body = {"user_id": 2, "sku": ASYNC_SKU, "qty": 1 + i % 3}
                    r = client.post(f"{system.urls['orders']}/orders/async", json=body)
                    assert r.status_code == 202, r.text

            place(10)
            eventually(lambda: outbox_state(system)[1] == 0, what="publishing before the outage")
            proxy.cut()  # the relay loses the broker; the orders service does not notice
            place(10)
            eventually(lambda: len(failures) >= 3, what="failed publishes during the outage")
            total, unpublished = outbox_state(system)
            assert unpublished == 10  # all accepted, none confirmed, none lost: they wait in the outbox
            proxy.restore()
            eventually(lambda: outbox_state(system)[1] == 0, what="publishing after the outage")
            eventually(
                lambda: system.scalar("orders", "SELECT count(*) FROM orders WHERE status = 'pending'") == 0,
                what="every order confirmed by the reply",
            )
    finally:
        proxy.close()
    events = system.query("orders", "SELECT event_id, payload FROM outbox")
    processed = {e for (e,) in system.query("inventory", "SELECT event_id FROM processed_events")}
    assert failures, "publishes must have failed during the outage"
    assert {e for e, _ in events} == processed and len(processed) == len(events) == total  # none lost, none extra
    assert sorted(deliveries) == sorted(str(e) for e, _ in events)  # each went through the broker once
    assert {p["sku"] for _, p in events} == {ASYNC_SKU}
    used = sum(p["qty"] for _, p in events)  # each event's stock taken exactly once
    assert system.scalar("inventory", "SELECT qty FROM stock WHERE sku = %s", [ASYNC_SKU]) == ASYNC_STOCK - used
    reserved = system.query("inventory", "SELECT count(*) FROM reservations WHERE sku = %s", [ASYNC_SKU])
    assert reserved == [(len(events),)]  # each order reserved exactly once
    statuses = system.query("orders", "SELECT status, count(*) FROM orders WHERE sku = %s GROUP BY 1", [ASYNC_SKU])
    assert statuses == [("confirmed", len(events))]  # and each moved on by exactly one reply
    assert sorted(replies) == sorted(p["order_id"] for _, p in events)


def test_async_order_without_stock_is_rejected_by_the_reply(
    system: System, env: dict[str, str], client: httpx.Client
) -> None:
    assert system.scalar("inventory", "SELECT qty FROM stock WHERE sku = 'limited'") == 0  # sold out above
    stop, deliveries, replies = threading.Event(), list[str](), list[str]()
    with background(
        stop,
        (consumer.run, (system.db("inventory"), env["AMQP_URL"], env["DEMO_PREFIX"], stop, deliveries)),
        (saga.run, (system.db("orders"), env["AMQP_URL"], env["DEMO_PREFIX"], stop, replies)),
        (relay.run, (system.db("orders"), env["AMQP_URL"], f"{env['DEMO_PREFIX']}.orders", stop, [])),
    ):
        r = client.post(f"{system.urls['orders']}/orders/async", json={"user_id": 1, "sku": "limited", "qty": 1})
        assert (r.status_code, r.json()["status"]) == (202, "pending")  # accepted: nobody checked stock yet
        order_id = r.json()["id"]
        eventually(lambda: order_id in replies, what="the stock.rejected reply")
    assert system.query("orders", "SELECT status FROM orders WHERE id = %s", [order_id]) == [("rejected",)]
    assert system.scalar("inventory", "SELECT count(*) FROM reservations WHERE order_id = %s", [order_id]) == 0
    assert system.scalar("inventory", "SELECT qty FROM stock WHERE sku = 'limited'") == 0


def test_a_redelivered_event_is_not_applied_twice(system: System, env: dict[str, str]) -> None:
    stop, deliveries = threading.Event(), list[str]()
    prefix = env["DEMO_PREFIX"]
    order_id, event_id = str(uuid.uuid4()), str(uuid.uuid4())
    event = {
        "event_id": event_id,
        "type": "order.created",
        "order_id": order_id,
        "user_id": 1,
        "sku": ASYNC_SKU,
        "qty": 4,
    }
    before = system.scalar("inventory", "SELECT qty FROM stock WHERE sku = %s", [ASYNC_SKU])
    with background(stop, (consumer.run, (system.db("inventory"), env["AMQP_URL"], prefix, stop, deliveries))):
        queue = f"{prefix}.inventory.order-created"  # published only once it is bound: not lost when run first
        eventually(lambda: consumer_count(env["AMQP_URL"], queue) == 1, what="the consumer listening")
        conn = pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"]))
        channel = conn.channel()
        for _ in range(3):  # the broker may deliver the same message again (a relay retry, a requeue)
            channel.basic_publish(f"{prefix}.orders", "order.created", json.dumps(event).encode())
        eventually(lambda: deliveries.count(event_id) == 3, what="three deliveries")
    answers = []  # no orders-side consumer runs in this test: the replies wait in their queue
    while (got := channel.basic_get(f"{prefix}.orders.stock-replies", auto_ack=True))[0] is not None:
        answers.append(json.loads(got[2]))
    conn.close()
    assert system.scalar("inventory", "SELECT qty FROM stock WHERE sku = %s", [ASYNC_SKU]) == before - 4
    assert system.scalar("inventory", "SELECT count(*) FROM reservations WHERE order_id = %s", [order_id]) == 1
    mine = [a for a in answers if a["order_id"] == order_id]
    assert len(mine) == 3 and all(a == mine[0] for a in mine) and mine[0]["outcome"] == "reserved"  # same answer


def test_malformed_events_are_dead_lettered_at_once_and_the_consumer_goes_on(
    system: System, env: dict[str, str]
) -> None:
    """A non-JSON body and an event without its qty go to <queue>.dlq on their first delivery, with
    the reason; the good event behind them is processed; nothing is left unacked and nothing is lost."""
    stop, deliveries = threading.Event(), list[str]()
    prefix, queue = env["DEMO_PREFIX"], f"{env['DEMO_PREFIX']}.inventory.order-created"
    order_id, event_id = str(uuid.uuid4()), str(uuid.uuid4())
    no_qty = json.dumps({"event_id": str(uuid.uuid4()), "order_id": str(uuid.uuid4()), "sku": ASYNC_SKU}).encode()
    good = json.dumps({"event_id": event_id, "order_id": order_id, "user_id": 1, "sku": ASYNC_SKU, "qty": 2}).encode()
    before = system.scalar("inventory", "SELECT qty FROM stock WHERE sku = %s", [ASYNC_SKU])
    with background(stop, (consumer.run, (system.db("inventory"), env["AMQP_URL"], prefix, stop, deliveries))):
        eventually(lambda: consumer_count(env["AMQP_URL"], queue) == 1, what="the consumer listening")
        publish(env["AMQP_URL"], f"{prefix}.orders", "order.created", b"not json{", no_qty, good)
        eventually(lambda: event_id in deliveries, what="the good event handled after the bad ones")
    assert deliveries == [event_id]  # the bad ones were never handled...
    assert system.scalar("inventory", "SELECT qty FROM stock WHERE sku = %s", [ASYNC_SKU]) == before - 2
    assert system.scalar("inventory", "SELECT count(*) FROM reservations WHERE order_id = %s", [order_id]) == 1
    assert drain(env["AMQP_URL"], queue) == []  # ...nor left unacked (they would be back in the queue now)
    parked = drain(env["AMQP_URL"], f"{queue}.dlq")
    assert [body for body, _ in parked] == [b"not json{", no_qty]  # ...but kept, byte for byte
    reasons = [h["x-rejected-reason"] for _, h in parked]
    assert reasons[0].startswith("body: Invalid JSON") and reasons[1] == "qty: Field required", reasons
    drain(env["AMQP_URL"], f"{prefix}.orders.stock-replies")  # the good event's reply: nobody consumes it here


def test_malformed_replies_are_dead_lettered_at_once_and_the_saga_goes_on(system: System, env: dict[str, str]) -> None:
    """The orders side does the same with stock replies: bad ones parked with the reason, the good one
    moves its order from pending to confirmed."""
    stop, replies = threading.Event(), list[str]()
    prefix, queue = env["DEMO_PREFIX"], f"{env['DEMO_PREFIX']}.orders.stock-replies"
    order_id = str(uuid.uuid4())
    system.query("orders", "INSERT INTO orders VALUES (%s, 1, %s, 1, 'pending')", [order_id, ASYNC_SKU])
    no_outcome = json.dumps({"event_id": str(uuid.uuid4()), "order_id": order_id}).encode()
    good = json.dumps({"event_id": str(uuid.uuid4()), "order_id": order_id, "outcome": "reserved"}).encode()
    with background(stop, (saga.run, (system.db("orders"), env["AMQP_URL"], prefix, stop, replies))):
        eventually(lambda: consumer_count(env["AMQP_URL"], queue) == 1, what="the saga consumer listening")
        publish(env["AMQP_URL"], f"{prefix}.inventory", "stock.reserved", b"\xff\xfe", no_outcome, good)
        eventually(lambda: order_id in replies, what="the good reply handled after the bad ones")
    assert replies == [order_id]
    assert system.query("orders", "SELECT status FROM orders WHERE id = %s", [order_id]) == [("confirmed",)]
    assert drain(env["AMQP_URL"], queue) == []
    parked = drain(env["AMQP_URL"], f"{queue}.dlq")
    assert [body for body, _ in parked] == [b"\xff\xfe", no_outcome]
    assert [h["x-rejected-reason"].split(":")[0] for _, h in parked] == ["body", "outcome"]


def seed_style_create_order(db: psycopg.Connection[Any], amqp_url: str, exchange: str) -> str:
    """The seed's CreateOrderAsync in Python: save the order (committed), then publish its event."""
    order_id = str(uuid.uuid4())
    db.execute("INSERT INTO orders VALUES (%s, 1, %s, 1, 'pending')", [order_id, ASYNC_SKU])
    event = {"event_id": str(uuid.uuid4()), "order_id": order_id, "user_id": 1, "sku": ASYNC_SKU, "qty": 1}
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))  # the broker is unreachable...
    connection.channel().basic_publish(exchange, "order.created", json.dumps(event).encode())
    return order_id


def test_the_common_save_then_publish_loses_the_event(system: System, env: dict[str, str]) -> None:
    unreachable = with_port(env["AMQP_URL"], free_port())
    with psycopg.connect(system.db("orders"), autocommit=True) as db:
        orders_before = db.execute("SELECT count(*) FROM orders").fetchone()
        with pytest.raises(AMQPConnectionError):
            seed_style_create_order(db, unreachable, f"{env['DEMO_PREFIX']}.orders")
        (order_id,) = db.execute(
            "SELECT id FROM orders WHERE status = 'pending' AND id NOT IN"
            " (SELECT (payload->>'order_id')::uuid FROM outbox)"
        ).fetchone() or (None,)
        assert order_id is not None  # the order was saved...
        assert db.execute("SELECT count(*) FROM orders").fetchone() == (orders_before[0] + 1,)  # type: ignore[index]
        # ...its event was not published, and nothing holds a copy to retry from: it is lost
        in_outbox = db.execute("SELECT count(*) FROM outbox WHERE payload->>'order_id' = %s", [str(order_id)])
        assert in_outbox.fetchone() == (0,)
        queue = pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"]))
        depth = queue.channel().queue_declare(f"{env['DEMO_PREFIX']}.inventory.order-created", passive=True)
        queue.close()
        assert depth.method.message_count == 0
        assert system.scalar("inventory", "SELECT count(*) FROM reservations WHERE order_id = %s", [order_id]) == 0
        db.execute("DELETE FROM orders WHERE id = %s", [order_id])  # pending forever otherwise


@pytest.mark.parametrize("set_on_listener", [False, True])
def test_prebound_listener_needs_tcp_nodelay_set_by_hand(set_on_listener: bool) -> None:
    """uvicorn serves a socket we bound through loop.create_server(sock=...), like this: asyncio only
    sets TCP_NODELAY on sockets whose proto is IPPROTO_TCP, and socket.create_server's is 0; an option
    set on the listening socket is inherited by every accepted one (Linux)."""
    listener = socket.create_server(("127.0.0.1", 0))
    assert listener.proto == 0
    if set_on_listener:
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    seen: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            seen.append(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def connect_once() -> None:
        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        reader, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        await reader.read()  # the server closes it after looking at the option
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(connect_once())
    assert len(seen) == 1 and bool(seen[0]) is set_on_listener
