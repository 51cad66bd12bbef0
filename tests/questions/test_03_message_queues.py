"""Proofs for docs/questions/03-message-queues.md, against the real RabbitMQ and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pika
import psycopg
import pytest
import redis
from pika.exceptions import ChannelClosedByBroker, UnroutableError
from psycopg.conninfo import make_conninfo

from verify.helpers import SNIPPETS as ALL_SNIPPETS
from verify.helpers import (
    TcpProxy,
    channel,
    depth,
    descendants,
    eventually,
    exists,
    load_snippet,
    throwaway_rabbit,
    throwaway_redis,
    with_port,
)

SNIPPETS = ALL_SNIPPETS / "03-message-queues"


@pytest.fixture(scope="module")
def jobs(env: dict[str, str]) -> Iterator[ModuleType]:
    module = load_snippet("03-message-queues/jobs.py")
    with psycopg.connect(env["DATABASE_URL"], autocommit=True, options=module.OPTIONS) as conn:
        load_snippet("03-message-queues/jobs_demo.py").fresh_tables(conn)  # the tables as the demo makes them
    yield module
    module.dramatiq.get_broker().close()


@pytest.fixture(scope="module")
def worker(jobs: ModuleType) -> Iterator[subprocess.Popen[bytes]]:
    """A real `dramatiq jobs` worker process (the page's own start_worker)."""
    demo = load_snippet("03-message-queues/jobs_demo.py")
    assert demo.jobs is jobs
    proc = demo.start_worker()
    yield proc
    proc.terminate()
    assert proc.wait(timeout=30) == 0  # SIGTERM: a clean shutdown


@pytest.fixture
def db(jobs: ModuleType, env: dict[str, str]) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(env["DATABASE_URL"], autocommit=True, options=jobs.OPTIONS) as conn:  # the jobs' schema
        yield conn


def one(conn: psycopg.Connection[Any], query: str, *params: Any) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


# --- background jobs ------------------------------------------------------------------------------


def test_api_returns_before_any_worker_runs_then_a_worker_process_sends(
    jobs: ModuleType, db: psycopg.Connection[Any], request: pytest.FixtureRequest
) -> None:
    """create_user commits and enqueues without waiting: with no worker at all it still returns, the
    job waits in RabbitMQ; a real worker process started afterwards sends the email exactly once."""
    uid = jobs.create_user(db, "carol@example.com")
    broker = jobs.dramatiq.get_broker()
    assert broker.get_queue_message_counts(jobs.QUEUE)[0] == 1
    assert one(db, "SELECT count(*) FROM emails_sent WHERE user_id = %s", uid) == 0
    request.getfixturevalue("worker")
    eventually(lambda: one(db, "SELECT count(*) FROM emails_sent WHERE user_id = %s", uid) == 1, "the email")
    assert one(db, "SELECT count(*) FROM email_attempts WHERE user_id = %s", uid) == 1
    eventually(lambda: broker.get_queue_message_counts(jobs.QUEUE) == (0, 0, 0), "empty queues")


def test_api_call_fails_loudly_when_the_broker_is_down(jobs: ModuleType, db: psycopg.Connection[Any]) -> None:
    """With RabbitMQ unreachable, create_user raises (the API can answer 503) instead of reporting
    success -- and the user it committed first has no job: the commit-then-enqueue gap the page names."""
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    call = "import jobs, psycopg\nwith psycopg.connect(jobs.DATABASE_URL, options=jobs.OPTIONS) as c:\n"
    call += "    jobs.create_user(c, 'gina@example.com')"
    res = subprocess.run(
        [sys.executable, "-c", call],
        cwd=SNIPPETS,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AMQP_URL": f"amqp://guest:guest@127.0.0.1:{port}/%2F"},
    )
    assert res.returncode == 1 and "dramatiq.errors.ConnectionClosed" in res.stderr, res.stderr[-2000:]
    assert one(db, "SELECT count(*) FROM users WHERE email = 'gina@example.com'") == 1


def test_failing_job_is_retried_with_exponential_backoff(
    jobs: ModuleType, worker: subprocess.Popen[bytes], db: psycopg.Connection[Any]
) -> None:
    """The flaky mail server fails twice; the worker retries and the third attempt sends. Each retry
    waits at least its backoff floor (200 ms, then 400 ms): a lower bound Dramatiq guarantees."""
    uid = jobs.create_user(db, "dave+flaky@example.com")
    eventually(lambda: one(db, "SELECT count(*) FROM emails_sent WHERE user_id = %s", uid) == 1, "the email")
    rows = db.execute(
        "SELECT attempt, ok, extract(epoch FROM at - lag(at) OVER (ORDER BY attempt)) * 1000"
        " FROM email_attempts WHERE user_id = %s ORDER BY attempt",
        [uid],
    ).fetchall()
    assert [(a, ok) for a, ok, _ in rows] == [(1, False), (2, False), (3, True)]
    assert rows[1][2] >= 200 and rows[2][2] >= 400, rows


def test_job_that_keeps_failing_ends_in_the_dead_letter_queue(
    jobs: ModuleType, worker: subprocess.Popen[bytes], db: psycopg.Connection[Any]
) -> None:
    """Retries are bounded: with max_retries=1 a job failing twice is moved to QUEUE.XQ, not retried
    forever and not lost; no email was recorded as sent."""
    uid = one(db, "INSERT INTO users (email) VALUES ('erin+flaky@example.com') RETURNING id")
    jobs.send_welcome_email.send_with_options(args=(uid, "erin+flaky@example.com"), max_retries=1)
    broker = jobs.dramatiq.get_broker()
    eventually(lambda: broker.get_queue_message_counts(jobs.QUEUE) == (0, 0, 1), "one dead job")
    assert one(db, "SELECT count(*) FROM email_attempts WHERE user_id = %s", uid) == 2
    assert one(db, "SELECT count(*) FROM emails_sent WHERE user_id = %s", uid) == 0


def test_worker_killed_mid_job_the_job_runs_again(
    jobs: ModuleType, worker: subprocess.Popen[bytes], db: psycopg.Connection[Any]
) -> None:
    """Dramatiq acks after the job: SIGKILL every process of a worker while it is inside a (slow) job,
    and the job goes back to the queue and another worker completes it -- nothing is lost."""
    demo = load_snippet("03-message-queues/jobs_demo.py")
    doomed = demo.start_worker()
    worker.terminate()  # only the doomed worker may take the job
    assert worker.wait(timeout=30) == 0
    uid = jobs.create_user(db, "frank+slow@example.com")
    eventually(lambda: one(db, "SELECT count(*) FROM email_attempts WHERE user_id = %s", uid) == 1, "job start")
    for pid in [*descendants(doomed.pid), doomed.pid]:
        os.kill(pid, signal.SIGKILL)
    assert doomed.wait(timeout=10) == -signal.SIGKILL
    assert one(db, "SELECT count(*) FROM emails_sent WHERE user_id = %s", uid) == 0
    broker = jobs.dramatiq.get_broker()
    eventually(lambda: broker.get_queue_message_counts(jobs.QUEUE)[0] == 1, "the job back in the queue")
    again = demo.start_worker()
    try:
        eventually(lambda: one(db, "SELECT count(*) FROM emails_sent WHERE user_id = %s", uid) == 1, "the email")
    finally:
        again.terminate()
        assert again.wait(timeout=30) == 0
    assert one(db, "SELECT count(*) FROM email_attempts WHERE user_id = %s", uid) == 2


def test_dramatiq_dead_letter_queue_keeps_messages_for_seven_days(jobs: ModuleType, env: dict[str, str]) -> None:
    """Dead jobs are not kept forever: Dramatiq declares QUEUE.XQ with x-message-ttl = 7 days. The broker
    confirms it: re-declaring with exactly that TTL is accepted, with any other it is refused (406)."""
    week_ms = 7 * 24 * 3600 * 1000
    jobs.dramatiq.get_broker().declare_queue(jobs.QUEUE, ensure=True)
    with channel(env) as ch:
        ch.queue_declare(f"{jobs.QUEUE}.XQ", durable=True, arguments={"x-message-ttl": week_ms})  # equivalent
        with pytest.raises(ChannelClosedByBroker) as refused:
            ch.queue_declare(f"{jobs.QUEUE}.XQ", durable=True, arguments={"x-message-ttl": week_ms + 1})
    assert refused.value.reply_code == 406 and "x-message-ttl" in str(refused.value)


SEED_CONSUMER_JS = """
// amqplib calls a consume callback from its channel's 'delivery' event listener
// (lib/channel.js: this.on('delivery', this.handleDelivery)) and ignores what the callback returns.
const { EventEmitter } = require('node:events');
const channel = new EventEmitter();
channel.on('delivery', async (msg) => {       // the common answer's consumer, unchanged from here on
  const content = JSON.parse(msg.content.toString());
  try { channel.emit('ack', msg); } catch (error) { channel.emit('nack', msg); }
});
channel.emit('delivery', { content: Buffer.from('not json{') });
setTimeout(() => console.log('still running, the message neither acked nor nacked'), 500);
"""


@pytest.mark.parametrize(
    ("flags", "crashes"),
    [([], True), (["--unhandled-rejections=warn"], False)],
    ids=["node-default", "pre-15-behaviour"],
)
def test_the_common_consumer_crashes_node_15_and_later(flags: list[str], crashes: bool) -> None:
    """JSON.parse throws inside the async callback: the promise amqplib ignores is rejected. Since Node 15
    an unhandled rejection ends the process (exit 1): a crash loop under a supervisor. With the old 'warn'
    behaviour the process lives on and the message stays unacked: the stall the page describes."""
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout
    assert int(version.lstrip("v").split(".")[0]) >= 15, version
    res = subprocess.run(["node", *flags, "-e", SEED_CONSUMER_JS], capture_output=True, text=True, timeout=30)
    assert "SyntaxError" in res.stderr, res.stderr
    assert (res.returncode, "still running" in res.stdout) == ((1, False) if crashes else (0, True)), res


def test_the_page_ran_on_rabbitmq_3_10(env: dict[str, str]) -> None:
    """The version note on the page: the behaviour shown was observed on RabbitMQ 3.10."""
    with pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"])) as conn:
        version = conn._impl.server_properties["version"]  # type: ignore[attr-defined]
    assert (version.decode() if isinstance(version, bytes) else str(version)).startswith("3.10."), version


# --- publish/subscribe vs competing consumers ----------------------------------------------------


def test_fan_out_gives_every_service_every_event(env: dict[str, str]) -> None:
    events = load_snippet("03-message-queues/events.py")
    got = events.fan_out(env["AMQP_URL"], env["DEMO_PREFIX"], 50)
    assert set(got) == {"inventory", "notifications", "analytics"}
    for ids in got.values():
        assert sorted(ids) == list(range(1, 51))


def test_one_shared_queue_splits_events_between_services(env: dict[str, str]) -> None:
    """The seed's diagram: each event reaches exactly one of the three services, none gets them all."""
    events = load_snippet("03-message-queues/events.py")
    got = events.shared_queue(env["AMQP_URL"], env["DEMO_PREFIX"], 50)
    everything = [i for ids in got.values() for i in ids]
    assert sorted(everything) == list(range(1, 51))  # each event once, in total
    assert all(0 < len(ids) < 50 for ids in got.values()), {s: len(i) for s, i in got.items()}


def test_durable_queue_keeps_events_for_a_service_that_is_down(env: dict[str, str]) -> None:
    """Events published while the analytics service has no consumer wait in its queue; Redis pub/sub,
    by contrast, delivers to whoever is subscribed at that instant -- here nobody, so they are gone."""
    exchange, queue = f"{env['DEMO_PREFIX']}.orders-down", f"{env['DEMO_PREFIX']}.analytics-down"
    with channel(env) as ch:
        ch.confirm_delivery()
        ch.exchange_declare(exchange, "topic", durable=True)
        ch.queue_declare(queue, durable=True)
        ch.queue_bind(queue, exchange, routing_key="order.created")
        for i in range(5):
            ch.basic_publish(exchange, "order.created", json.dumps({"order_id": i}).encode(), mandatory=True)
    assert depth(env, queue) == 5  # the service comes back later and finds all five
    with channel(env) as ch:
        ch.queue_delete(queue)
        ch.exchange_delete(exchange)
    r = redis.Redis.from_url(env["REDIS_URL"])
    assert r.publish(f"{env['DEMO_PREFIX']}:order.created", b'{"order_id": 0}') == 0  # received by nobody
    r.close()


# --- the reliable producer/consumer ---------------------------------------------------------------


def test_confirms_alone_ack_an_unroutable_message_mandatory_returns_it(env: dict[str, str]) -> None:
    reliable = load_snippet("03-message-queues/reliable.py")
    missing = f"{env['DEMO_PREFIX']}.nowhere"
    with channel(env) as ch:
        ch.confirm_delivery()
        ch.basic_publish("", missing, b"{}", reliable.PERSISTENT)  # confirmed: no exception at all
        with pytest.raises(UnroutableError):
            reliable.publish(ch, missing, {"order_id": 1})
    assert not exists(env, missing)  # both were dropped by the broker: nothing holds them


def test_a_connection_per_message_means_a_handshake_per_message(env: dict[str, str]) -> None:
    """The common publishMessage() connects, opens a channel, publishes and closes, per message: through a
    counting TCP proxy, 10 messages open 10 connections (each a TCP and AMQP handshake); reliable.py's
    way opens one. (What that costs per message is measured by the benchmark on the page.)"""
    reliable = load_snippet("03-message-queues/reliable.py")
    queue = f"{env['DEMO_PREFIX']}.per-connection"
    amqp = pika.URLParameters(env["AMQP_URL"])
    proxy = TcpProxy((amqp.host, amqp.port))
    try:
        via_proxy = with_port(env["AMQP_URL"], proxy.port)
        for i in range(10):  # the common answer's way
            with pika.BlockingConnection(pika.URLParameters(via_proxy)) as conn:
                ch = conn.channel()
                ch.queue_declare(queue, durable=True)
                ch.basic_publish("", queue, json.dumps({"order_id": i}).encode())
        per_message, proxy.accepted = proxy.accepted, 0
        with pika.BlockingConnection(pika.URLParameters(via_proxy)) as conn:  # reliable.py's way
            ch = reliable.open_channel(conn, queue)
            for i in range(10):
                reliable.publish(ch, queue, {"order_id": i})
        reused = proxy.accepted
    finally:
        proxy.close()
    assert (per_message, reused) == (10, 1)
    assert depth(env, queue) == 20
    with channel(env) as ch:
        ch.queue_delete(queue)


def test_without_confirms_a_publish_returns_before_the_broker_decides(env: dict[str, str]) -> None:
    """'Sent' without confirms means written to the socket: a publish to an exchange that does not exist
    returns normally (the broker closes the channel afterwards); with confirms the same call raises."""
    missing = f"{env['DEMO_PREFIX']}.no-such-exchange"
    with pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"])) as conn:
        ch = conn.channel()
        ch.basic_publish(missing, "order.created", b"{}")  # no error: nothing waited for an answer
        conn.process_data_events(time_limit=0.5)
        assert not ch.is_open  # ...the broker refused it a moment later, after the caller moved on
        confirmed = conn.channel()
        confirmed.confirm_delivery()
        with pytest.raises(ChannelClosedByBroker) as refused:
            confirmed.basic_publish(missing, "order.created", b"{}")
        assert refused.value.reply_code == 404


def test_queue_is_durable_and_messages_persistent(env: dict[str, str]) -> None:
    reliable = load_snippet("03-message-queues/reliable.py")
    queue = f"{env['DEMO_PREFIX']}.durable"
    with pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"])) as conn:
        ch = reliable.open_channel(conn, queue)
        reliable.publish(ch, queue, {"order_id": 7})
        _, props, body = ch.basic_get(queue, auto_ack=True)
        assert props is not None and props.delivery_mode == 2 and json.loads(body or b"") == {"order_id": 7}
        with pytest.raises(ChannelClosedByBroker) as refused:
            conn.channel().queue_declare(queue, durable=False)  # the broker knows it as durable
        assert refused.value.reply_code == 406
        conn.channel().queue_delete(queue)


def test_durable_queue_and_persistent_message_survive_a_broker_kill9() -> None:
    """On a throwaway RabbitMQ node of our own: publish the page's way (durable queue, persistent,
    confirmed), kill -9 the broker, restart it. The persistent message is still there; a transient
    message confirmed into the same queue is gone, and so is a non-durable queue with its message."""
    reliable = load_snippet("03-message-queues/reliable.py")
    with throwaway_rabbit() as rabbit:
        with pika.BlockingConnection(pika.URLParameters(rabbit.url)) as conn:
            ch = reliable.open_channel(conn, "orders")
            reliable.publish(ch, "orders", {"order_id": 1})
            ch.basic_publish("", "orders", b'{"order_id": 2}', pika.BasicProperties(delivery_mode=1), mandatory=True)
            ch.queue_declare("scratch", durable=False)
            reliable.publish(ch, "scratch", {"order_id": 3})
        rabbit.kill9()
        rabbit.start()
        with pika.BlockingConnection(pika.URLParameters(rabbit.url)) as conn:
            ch = conn.channel()
            survivors = []
            while (got := ch.basic_get("orders", auto_ack=True))[0] is not None:
                survivors.append(json.loads(got[2] or b""))
            assert survivors == [{"order_id": 1}]
            with pytest.raises(ChannelClosedByBroker) as gone:
                ch.queue_declare("scratch", passive=True)
            assert gone.value.reply_code == 404


def test_prefetch_bounds_unacked_deliveries(env: dict[str, str]) -> None:
    """With prefetch 5 and nothing acked, the consumer holds exactly 5; the other 15 stay queued."""
    reliable = load_snippet("03-message-queues/reliable.py")
    queue = f"{env['DEMO_PREFIX']}.prefetch"
    with pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"])) as conn:
        ch = reliable.open_channel(conn, queue)
        for i in range(20):
            reliable.publish(ch, queue, {"order_id": i})
        held: list[int] = []
        ch.basic_qos(prefetch_count=5)
        ch.basic_consume(queue, lambda c, m, p, b: held.append(m.delivery_tag))
        while len(held) < 5:  # bounded by the test's timeout
            conn.process_data_events(time_limit=0.05)
        conn.process_data_events(time_limit=0.5)  # time for more to arrive: none may
        assert len(held) == 5 and depth(env, queue) == 15
        conn.channel().queue_delete(queue)


def test_manual_ack_a_failed_handler_leaves_its_message_queued(env: dict[str, str]) -> None:
    """consume() acks only after the handler returns: when the handler raises on order 3, orders 1-2
    are gone (acked), 3-5 are back in the queue, nothing is lost."""
    reliable = load_snippet("03-message-queues/reliable.py")
    queue = f"{env['DEMO_PREFIX']}.manual-ack"
    handled: list[int] = []

    def handle(p: dict[str, Any]) -> None:
        if p["order_id"] == 3:
            raise RuntimeError("crash while handling order 3")
        handled.append(p["order_id"])

    with pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"])) as conn:
        ch = reliable.open_channel(conn, queue)
        for i in range(1, 6):
            reliable.publish(ch, queue, {"order_id": i})
        with pytest.raises(RuntimeError):
            reliable.consume(ch, queue, handle, prefetch=1)
        ch.close()  # what the consumer's death does: unacked deliveries go back
        assert handled == [1, 2]
        eventually(lambda: depth(env, queue) == 3, "orders 3-5 back in the queue")
        remaining: list[int] = []
        assert reliable.consume(conn.channel(), queue, lambda p: remaining.append(p["order_id"])) == 3
        assert remaining == [3, 4, 5]
        conn.channel().queue_delete(queue)


def test_malformed_messages_go_to_the_dlq_at_once_and_consuming_goes_on(env: dict[str, str]) -> None:
    """A non-JSON body and a JSON object without order_id, in front of a good order: the good one is
    handled, the two bad ones are in <queue>.dlq byte for byte, nothing is left in the queue or unacked."""
    reliable = load_snippet("03-message-queues/reliable.py")
    queue = f"{env['DEMO_PREFIX']}.malformed"
    seen: list[int] = []
    with pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"])) as conn:
        ch = reliable.open_channel(conn, queue)
        ch.basic_publish("", queue, b"not json{", reliable.PERSISTENT, mandatory=True)
        reliable.publish(ch, queue, {"id": 7})
        reliable.publish(ch, queue, {"order_id": 8})
        assert reliable.consume(ch, queue, lambda p: seen.append(p["order_id"]), prefetch=1) == 1
        ch.close()  # anything still unacked would now go back to the queue
        assert seen == [8] and depth(env, queue) == 0
        ch = conn.channel()
        parked = []
        while (got := ch.basic_get(f"{queue}.dlq", auto_ack=True))[0] is not None:
            parked.append(got[2])
        assert parked == [b"not json{", b'{"id": 7}']
        for name in (queue, f"{queue}.dlq"):
            ch.queue_delete(name)


def test_queue_arguments_cannot_be_changed_by_redeclaring(env: dict[str, str]) -> None:
    """Why reliable.py moves a bad message itself: a queue declared without a dead-letter exchange
    cannot get one by a new declaration (406 PRECONDITION_FAILED), nor lose one."""
    queue = f"{env['DEMO_PREFIX']}.no-dlx"
    dlx = {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": f"{queue}.dlq"}
    with pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"])) as conn:
        conn.channel().queue_declare(queue, durable=True)
        with pytest.raises(ChannelClosedByBroker) as refused:
            conn.channel().queue_declare(queue, durable=True, arguments=dlx)
        assert refused.value.reply_code == 406 and "inequivalent arg 'x-dead-letter-exchange'" in str(refused.value)
        conn.channel().queue_delete(queue)
        conn.channel().queue_declare(queue, durable=True, arguments=dlx)
        with pytest.raises(ChannelClosedByBroker) as refused:
            conn.channel().queue_declare(queue, durable=True)
        assert refused.value.reply_code == 406
        conn.channel().queue_delete(queue)


# --- poison messages ------------------------------------------------------------------------------


def test_requeue_true_redelivers_a_poison_message_without_end(env: dict[str, str]) -> None:
    poison = load_snippet("03-message-queues/poison_requeue.py")
    queue = f"{env['DEMO_PREFIX']}.poison"
    with pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"])) as conn:
        ch = conn.channel()
        ch.queue_declare(queue, durable=True)
        ch.confirm_delivery()
        ch.basic_publish("", queue, b'{"order_id": 13}')
        assert poison.requeue_loop(ch, queue, seconds=0.5) > 20  # bounded by us, not by the code
        ch.close()
        ch = conn.channel()
        method, _, body = next(ch.consume(queue, inactivity_timeout=10))  # still there, to loop again
        assert method is not None and method.redelivered and body == b'{"order_id": 13}'
        ch.cancel()
        conn.channel().queue_delete(queue)


def run_dead_letter(env: dict[str, str], bodies: list[bytes], dead: int) -> tuple[list[int], dict[int, int], list[Any]]:
    """Publish bodies to a fresh payments queue, consume the fixed way, wait for `dead` messages in
    the DLQ (dead-lettering is asynchronous); return done, attempts, the DLQ's messages."""
    dl = load_snippet("03-message-queues/dead_letter.py")
    queue = f"{env['DEMO_PREFIX']}.payments"
    done: list[int] = []
    attempts: dict[int, int] = {}

    def handle(p: dict[str, Any]) -> None:
        attempts[p["id"]] = attempts.get(p["id"], 0) + 1
        if p.get("card") == "broken":
            raise RuntimeError("declined")
        done.append(p["id"])

    with pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"])) as conn:
        ch = conn.channel()
        dlq = dl.declare(ch, queue)
        ch.confirm_delivery()
        for body in bodies:
            ch.basic_publish("", queue, body)
        dl.consume(ch, queue, handle)
        assert depth(env, queue) == 0
        eventually(lambda: depth(env, dlq) >= dead, f"{dead} dead-lettered")
        dead_letters = []
        while (got := ch.basic_get(dlq, auto_ack=True))[0] is not None:
            dead_letters.append((got[2], dl.headers(got[1])["x-death"][0]["reason"]))
        for name in (queue, dlq):
            ch.queue_delete(name)
        ch.exchange_delete(f"{queue}.dlx")
    return done, attempts, dead_letters


def test_poison_message_is_dead_lettered_after_bounded_attempts(env: dict[str, str]) -> None:
    dl = load_snippet("03-message-queues/dead_letter.py")
    poison = b'{"id": 2, "card": "broken"}'
    done, attempts, dead = run_dead_letter(env, [b'{"id": 1}', poison, b'{"id": 3}'], dead=1)
    assert sorted(done) == [1, 3]
    assert attempts[2] == dl.MAX_ATTEMPTS == 3
    assert dead == [(poison, "rejected")]


def test_malformed_message_goes_to_dlq_at_once_and_does_not_stall(env: dict[str, str]) -> None:
    """Non-JSON is rejected on its first delivery; the 20 good messages behind it are all processed."""
    good = [json.dumps({"id": i}).encode() for i in range(1, 21)]
    done, attempts, dead = run_dead_letter(env, [b"not json{", *good], dead=1)
    assert sorted(done) == list(range(1, 21)) and set(attempts.values()) == {1}
    assert dead == [(b"not json{", "rejected")]


def test_delivery_limit_dead_letters_even_if_every_consumer_crashes(env: dict[str, str]) -> None:
    """The broker-side backstop: consumers that die before acking (channel closed, no nack) do not
    loop the message forever; after MAX_ATTEMPTS deliveries the quorum queue dead-letters it."""
    dl = load_snippet("03-message-queues/dead_letter.py")
    queue = f"{env['DEMO_PREFIX']}.crashy"
    with pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"])) as conn:
        ch = conn.channel()
        dlq = dl.declare(ch, queue)
        ch.confirm_delivery()
        ch.basic_publish("", queue, b'{"id": 9}')
        deliveries = 0
        while depth(env, dlq) == 0:  # until the broker gives up (bounded by the test timeout)
            crashing = conn.channel()
            if crashing.basic_get(queue)[0] is not None:
                deliveries += 1
            crashing.close()  # the consumer dies holding it
        assert deliveries == dl.MAX_ATTEMPTS
        _, props, body = ch.basic_get(dlq, auto_ack=True)
        assert body == b'{"id": 9}' and dl.headers(props)["x-death"][0]["reason"] == "delivery_limit"
        for name in (queue, dlq):
            ch.queue_delete(name)
        ch.exchange_delete(f"{queue}.dlx")


# --- crash safety ---------------------------------------------------------------------------------


def test_kill9_mid_batch_loses_nothing_and_applies_nothing_twice(env: dict[str, str]) -> None:
    crash = load_snippet("03-message-queues/crash.py")
    with (
        psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn,
        pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"])) as mq,
    ):
        conn.execute(crash.SCHEMA)
        crash.publish_credits(mq.channel(), crash.QUEUE, 100)
        assert crash.kill_mid_batch(conn, after=30) == -9  # really SIGKILLed
        killed_at = one(conn, "SELECT count(*) FROM inbox")
        assert 30 <= killed_at < 100  # mid-run
        crash.consume(env["AMQP_URL"], env["DATABASE_URL"], crash.QUEUE)
        assert depth(env, crash.QUEUE) == 0
        mq.channel().queue_delete(crash.QUEUE)
        assert one(conn, "SELECT count(*) FROM inbox") == 100  # 0 lost
        assert one(conn, "SELECT balance FROM account") == sum(range(1, 101))  # 0 double-applied
        assert one(conn, "SELECT count(*) FROM deliveries WHERE applied") == 100
        # idempotency was exercised: messages came back after their effect had committed
        assert one(conn, "SELECT count(*) FROM deliveries WHERE redelivered AND NOT applied") >= 1
        assert one(conn, "SELECT naive FROM account") > sum(range(1, 101))


def test_crash_consumer_parks_malformed_credits_and_goes_on(env: dict[str, str]) -> None:
    """crash.py's consumer: a body that is not JSON, not an object, an amount that is a string or
    missing, and a message without an id each go to <queue>.dlq at once; the good credit behind them
    is applied once; the queue ends empty. (Own schema, so the kill -9 test's account is untouched.)"""
    crash = load_snippet("03-message-queues/crash.py")
    queue = f"{env['DEMO_PREFIX']}.credits-malformed"
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as admin:
        admin.execute("CREATE SCHEMA IF NOT EXISTS malformed_credits")
    db_url = make_conninfo(env["DATABASE_URL"], options="-c search_path=malformed_credits")
    bad = [
        (b"not json{", "bad-1"),
        (b"[5]", "bad-2"),
        (b'{"amount": "5"}', "bad-3"),
        (b'{"total": 5}', "bad-4"),
        (b'{"amount": 5}', None),
    ]
    with (
        psycopg.connect(db_url, autocommit=True) as conn,
        pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"])) as mq,
    ):
        conn.execute(crash.SCHEMA)
        ch = mq.channel()
        ch.confirm_delivery()
        ch.queue_declare(queue, durable=True)
        for body, message_id in [*bad, (b'{"amount": 42}', "good-1")]:
            props = pika.BasicProperties(message_id=message_id, delivery_mode=pika.DeliveryMode.Persistent)
            ch.basic_publish("", queue, body, props, mandatory=True)
        crash.consume(env["AMQP_URL"], db_url, queue, batch=2)
        assert depth(env, queue) == 0  # all settled: nothing left, nothing unacked
        assert one(conn, "SELECT balance FROM account") == 42
        assert conn.execute("SELECT message_id FROM inbox").fetchall() == [("good-1",)]
        parked = []
        while (got := ch.basic_get(f"{queue}.dlq", auto_ack=True))[0] is not None:
            parked.append(got[2])
        assert parked == [body for body, _ in bad]  # nothing lost
        for name in (queue, f"{queue}.dlq"):
            ch.queue_delete(name)


@pytest.mark.parametrize(("appendonly", "survivors"), [(False, 0), (True, 20)], ids=["no-aof", "appendonly-yes"])
def test_redis_job_queue_survives_a_redis_kill9_only_with_aof(
    appendonly: bool, survivors: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a throwaway redis-server of our own: 20 jobs queued (send() returned for each), then Redis is
    SIGKILLed and restarted on the same data directory. Without AOF (the default snapshots have not run
    yet) every job is gone; with appendonly yes all 20 are back and a worker does them."""
    with throwaway_redis(appendonly) as server:
        monkeypatch.setenv("REDIS_URL", server.url)
        monkeypatch.setenv("DEMO_PREFIX", "q03-kill9")
        redis_jobs = load_snippet("03-message-queues/redis_jobs.py")
        for image_id in range(20):
            redis_jobs.make_thumbnail.send(image_id)
        assert redis_jobs.queued() == 20
        redis_jobs.broker.close()
        server.kill9()
        server.start()
        redis_jobs = load_snippet("03-message-queues/redis_jobs.py")  # a fresh broker, as a restarted app would have
        assert redis_jobs.queued() == survivors
        if survivors:
            redis_jobs.run_worker_until(done=20)
            assert redis_jobs.queued() == 0
        redis_jobs.broker.close()
