"""Background jobs with Dramatiq on RabbitMQ: the API enqueues and returns, a worker sends the email."""

import os
import time

import dramatiq
import psycopg
from dramatiq.brokers.rabbitmq import RabbitmqBroker

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
PREFIX = os.environ.get("DEMO_PREFIX", "demo")
QUEUE = f"{PREFIX}-emails"  # Dramatiq also declares QUEUE.DQ (delays, retries) and QUEUE.XQ (dead)
OPTIONS = f'-c search_path="{PREFIX}"'  # connect with it: the tables are in schema PREFIX (jobs_demo.py makes it)

# confirm_delivery: send() returns only once RabbitMQ has the message, and raises if it does not.
dramatiq.set_broker(RabbitmqBroker(url=AMQP_URL, confirm_delivery=True))

TABLES = """
CREATE TABLE IF NOT EXISTS users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS email_attempts (
    user_id bigint NOT NULL, attempt int NOT NULL, ok boolean NOT NULL, at timestamptz DEFAULT clock_timestamp());
CREATE TABLE IF NOT EXISTS emails_sent (
    user_id bigint NOT NULL, template text NOT NULL, sent_at timestamptz DEFAULT clock_timestamp(),
    PRIMARY KEY (user_id, template));
"""


class SmtpUnavailable(Exception): ...


def smtp_send(conn: psycopg.Connection, user_id: int, email: str, template: str) -> None:
    """Stand-in for a mail server: '+flaky' addresses fail twice, '+slow' ones take 3 s."""
    row = conn.execute("SELECT count(*) FROM email_attempts WHERE user_id = %s", [user_id]).fetchone()
    attempt = (row[0] if row else 0) + 1
    ok = "+flaky" not in email or attempt > 2
    conn.execute("INSERT INTO email_attempts (user_id, attempt, ok) VALUES (%s, %s, %s)", [user_id, attempt, ok])
    if not ok:
        raise SmtpUnavailable(f"SMTP unavailable (attempt {attempt})")
    time.sleep(3 if "+slow" in email else 0)
    # idempotent: a redelivered job does not send the same email twice
    conn.execute(
        "INSERT INTO emails_sent (user_id, template) VALUES (%s, %s) ON CONFLICT DO NOTHING", [user_id, template]
    )


# Failures are retried up to 5 times, after 200-400 ms, then 400-800 ms, 800-1600 ms ... (exponential, jittered).
@dramatiq.actor(queue_name=QUEUE, max_retries=5, min_backoff=200, max_backoff=10_000)
def send_welcome_email(user_id: int, email: str) -> None:
    with psycopg.connect(DATABASE_URL, autocommit=True, options=OPTIONS) as conn:
        smtp_send(conn, user_id, email, "welcome")


def create_user(conn: psycopg.Connection, email: str) -> int:
    """The API handler: commit the user, enqueue the email, return. It never waits for the worker."""
    with conn.transaction():
        row = conn.execute("INSERT INTO users (email) VALUES (%s) RETURNING id", [email]).fetchone()
    assert row is not None
    send_welcome_email.send(row[0], email)  # raises if the broker does not confirm: the API answers 5xx
    return int(row[0])
