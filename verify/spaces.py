"""The three real services: where they are, whether they answer, and throwaway space on them.

Every page (and every test module, and every benchmark) gets its own space, created here and
removed afterwards, so pages run in parallel and nothing of anyone else's is touched:

* PostgreSQL: a login role and a database of the same name, ``vd_<page>_<random>``. The role is not a
  superuser and has a CONNECTION LIMIT (the page's connection budget, enforced by the server); it
  may create more databases, which must be named from its own (``<name>_users`` ...).
* Redis: every key and pub/sub channel starts with the page prefix (``DEMO_PREFIX``).
* RabbitMQ: every queue and exchange starts with the page prefix.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pika
import pika.exceptions
import psycopg
import redis
from psycopg import sql

DEFAULTS = {
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/%2F",
}
# How each service is started when it is missing, by who can start it.
START_HINTS = {
    "DATABASE_URL": "docker compose up -d --wait postgres   (or: pg_ctlcluster 15 main start)",
    "REDIS_URL": "docker compose up -d --wait redis   (or: redis-server --daemonize yes --port 6379)",
    "AMQP_URL": "docker compose up -d --wait rabbitmq   (or: rabbitmq-server -detached)",
}
COMPOSE_SERVICE = {"DATABASE_URL": "postgres", "REDIS_URL": "redis", "AMQP_URL": "rabbitmq"}
CONNECTION_BUDGET = 15  # PostgreSQL connections one page may hold at once
RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")  # the local install, for throwaway brokers
MANAGEMENT_URL = os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672")


def url(name: str) -> str:
    return os.environ.get(name) or DEFAULTS[name]


def host_port(name: str) -> tuple[str, int]:
    parts = urlsplit(url(name))
    default_port = {"DATABASE_URL": 5432, "REDIS_URL": 6379, "AMQP_URL": 5672}[name]
    return parts.hostname or "127.0.0.1", parts.port or default_port


def wanted(name: str) -> bool:
    """False for a service (DATABASE_URL, ...) the run's selection does not use: verify.provide names
    those in VERIFY_UNUSED_SERVICES, and spaces and sentinels leave them alone."""
    return name not in os.environ.get("VERIFY_UNUSED_SERVICES", "").split(",")


def missing_services() -> list[str]:
    """Names (DATABASE_URL, ...) of the services whose port does not accept a connection."""
    missing = []
    for name in DEFAULTS:
        try:
            socket.create_connection(host_port(name), timeout=2).close()
        except OSError:
            missing.append(name)
    return missing


def docker_engine() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


def ensure_services(compose_file: str) -> str | None:
    """Bring up what is missing with Docker if an engine answers; return an error text or None."""
    missing = missing_services()
    if missing and docker_engine():
        services = [COMPOSE_SERVICE[m] for m in missing]
        subprocess.run(["docker", "compose", "-f", compose_file, "up", "-d", "--wait", *services], check=False)
        missing = missing_services()
    lines = []
    if not shutil.which("psql"):
        lines.append(
            "psql (the PostgreSQL client) is not on PATH: the sql blocks run through it -- "
            "install it with: apt-get install postgresql-client"
        )
    if not missing:
        return "\n".join(lines) or None
    lines.append("These services do not answer, so the pages cannot be verified:")
    for name in missing:
        host, port = host_port(name)
        lines.append(f"  {name}: nothing listens on {host}:{port} -- start it with: {START_HINTS[name]}")
    lines.append("No Docker engine answered `docker info`, so they were not started automatically.")
    return "\n".join(lines)


def wait_amqp(timeout: float = 60.0) -> None:
    """RabbitMQ opens its port before it accepts AMQP logins: wait for a real login."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pika.BlockingConnection(pika.URLParameters(url("AMQP_URL"))).close()
            return
        except pika.exceptions.AMQPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def pg_bin() -> Path:
    """Where pages start PostgreSQL servers of their own from: PG_BIN, else the binaries of the shared
    server's major version. The plugin sets PG_BIN to it, so the run and its stamp agree."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    with psycopg.connect(url("DATABASE_URL")) as conn:
        major = conn.info.server_version // 10000
    return Path(f"/usr/lib/postgresql/{major}/bin")


def binary_version(cmd: list[str]) -> str:
    """The first x.y.z in what `cmd` prints ("?" if it cannot be run)."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return "?"
    m = re.search(r"\d+\.\d+(?:\.\d+)?", out)
    return m[0] if m else "?"


def server_versions(used: set[str]) -> dict[str, str]:
    """Versions of the servers in `used` (keys of SERVERS), and of Python."""
    import platform

    found: dict[str, str] = {}
    if "PostgreSQL" in used:
        with psycopg.connect(url("DATABASE_URL")) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        found["PostgreSQL"] = str(row[0]).split()[0] if row else "?"
    if "PostgreSQL (PG_BIN)" in used:
        found["PostgreSQL (PG_BIN)"] = binary_version([str(pg_bin() / "postgres"), "--version"])
    if "Redis" in used:
        r = redis.Redis.from_url(url("REDIS_URL"))
        found["Redis"] = str(r.info("server")["redis_version"])
        r.close()
    if "redis-server" in used:
        found["redis-server"] = binary_version(["redis-server", "--version"])
    if "RabbitMQ" in used:
        amqp = pika.BlockingConnection(pika.URLParameters(url("AMQP_URL")))
        rabbit = amqp._impl.server_properties.get("version", b"?")  # type: ignore[attr-defined]
        amqp.close()
        found["RabbitMQ"] = rabbit.decode() if isinstance(rabbit, bytes) else str(rabbit)
    if "rabbitmq-server" in used:
        # the installed broker's files live under .../rabbitmq_server-<version>/
        m = re.search(r"rabbitmq_server-([\d.]+)", str(RABBITMQ_SERVER.resolve()))
        found["rabbitmq-server"] = m[1] if m else "?"
    found["Python"] = platform.python_version()
    return found


def with_path(base: str, dbname: str, user: str | None = None) -> str:
    parts = urlsplit(base)
    netloc = parts.netloc
    if user is not None:
        netloc = quote(user) + "@" + netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, "/" + dbname, parts.query, parts.fragment))


def admin_connect(dbname: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(with_path(url("DATABASE_URL"), dbname), autocommit=True)


def rabbit_names(prefix: str) -> tuple[list[str], list[str]]:
    """Queues and exchanges whose name starts with prefix: rabbitmqctl for a local broker, else (or when
    RABBITMQ_MANAGEMENT_URL is set, e.g. a broker in a container) the management HTTP API."""
    local = host_port("AMQP_URL")[0] in ("127.0.0.1", "localhost")
    if "RABBITMQ_MANAGEMENT_URL" not in os.environ and shutil.which("rabbitmqctl") and local:
        # both at once: each rabbitmqctl starts an Erlang VM (most of its time)
        procs = [
            subprocess.Popen(
                ["rabbitmqctl", what, "name", "--quiet", "--no-table-headers"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for what in ("list_queues", "list_exchanges")
        ]
        out = []
        for proc in procs:
            stdout, stderr = proc.communicate(timeout=60)
            if proc.returncode != 0:
                raise subprocess.CalledProcessError(proc.returncode, proc.args, stdout, stderr)
            out.append([n for n in stdout.split() if n.startswith(prefix)])
        return out[0], out[1]
    parts = urlsplit(MANAGEMENT_URL)
    mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(
        None, f"{parts.scheme}://{parts.hostname}:{parts.port}", parts.username or "", parts.password or ""
    )
    opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(mgr))
    base = f"{parts.scheme}://{parts.hostname}:{parts.port}/api"
    found = []
    for what in ("queues", "exchanges"):
        with opener.open(f"{base}/{what}?columns=name", timeout=30) as resp:
            found.append([o["name"] for o in json.load(resp) if o["name"].startswith(prefix)])
    return found[0], found[1]


@dataclass
class Space:
    """A page's throwaway space on the three services, and the environment a snippet sees."""

    name: str  # PostgreSQL role and database; also the Redis/RabbitMQ prefix (dashes for underscores)

    @property
    def prefix(self) -> str:
        return self.name.replace("_", "-")

    @property
    def env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": with_path(url("DATABASE_URL"), self.name, user=self.name),
            "REDIS_URL": url("REDIS_URL"),
            "AMQP_URL": url("AMQP_URL"),
            "DEMO_PREFIX": self.prefix,
        }

    def create(self) -> None:
        with admin_connect() as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN CREATEDB CONNECTION LIMIT {}").format(
                    sql.Identifier(self.name), sql.Literal(CONNECTION_BUDGET)
                )
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(self.name), sql.Identifier(self.name))
            )

    def leftovers(self, rabbit: bool = True) -> list[str]:
        """What this space still holds on any service (empty after cleanup)."""
        left: list[str] = []
        with admin_connect() as conn:
            dbs = conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [self.name]).fetchall()
            roles = conn.execute("SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)", [self.name]).fetchall()
        left += [f"database {d}" for (d,) in dbs] + [f"role {r}" for (r,) in roles]
        if wanted("REDIS_URL"):
            r = redis.Redis.from_url(url("REDIS_URL"))
            left += [f"redis key {k!r}" for k in r.scan_iter(match=self.prefix + "*", count=1000)]
            left += [f"redis channel {c!r} (still subscribed)" for c in r.pubsub_channels(self.prefix + "*")]
            r.close()
        queues, exchanges = rabbit_names(self.prefix) if rabbit and wanted("AMQP_URL") else ([], [])
        left += [f"rabbitmq queue {q}" for q in queues] + [f"rabbitmq exchange {e}" for e in exchanges]
        return left

    def cleanup(self) -> list[str]:
        """Remove everything under this space; return what could not be removed."""
        with admin_connect() as conn:
            dbs = conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [self.name]).fetchall()
            for (db,) in dbs:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(self.name)))
        if wanted("REDIS_URL"):
            r = redis.Redis.from_url(url("REDIS_URL"))
            keys = list(r.scan_iter(match=self.prefix + "*", count=1000))
            for i in range(0, len(keys), 500):
                r.delete(*keys[i : i + 500])
            r.close()
        queues, exchanges = rabbit_names(self.prefix) if wanted("AMQP_URL") else ([], [])
        if queues or exchanges:
            conn_ = pika.BlockingConnection(pika.URLParameters(url("AMQP_URL")))
            ch = conn_.channel()
            for q in queues:
                ch.queue_delete(q)
            for e in exchanges:
                ch.exchange_delete(e)
            conn_.close()
        return self.leftovers(rabbit=bool(queues or exchanges))


@contextmanager
def space(label: str) -> Iterator[Space]:
    """A new space named after label, removed afterwards; raises if anything of it is left behind."""
    slug = "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")[:30]
    s = Space(f"vd_{slug}_{secrets.token_hex(3)}")
    s.create()
    try:
        yield s
    finally:
        left = s.cleanup()
        if left:
            raise RuntimeError(f"{label}: space {s.name} was left behind: {left}")


# Sentinels: a table in the shared default database and a key in Redis DB 0, named per token (runs may
# overlap), that no page may touch. A run plants one first and checks it last.
SENTINEL_TABLE = "verify_isolation_sentinel_{}"
SENTINEL_KEY = "verify:isolation:sentinel:{}"


def plant_sentinel() -> str:
    token = secrets.token_hex(8)
    with admin_connect() as conn:
        conn.execute(sql.SQL("CREATE TABLE {} (token text)").format(sql.Identifier(SENTINEL_TABLE.format(token))))
        conn.execute(
            sql.SQL("INSERT INTO {} VALUES (%s)").format(sql.Identifier(SENTINEL_TABLE.format(token))), [token]
        )
    if wanted("REDIS_URL"):
        r = redis.Redis.from_url(url("REDIS_URL"))
        r.set(SENTINEL_KEY.format(token), token)
        r.close()
    return token


def remove_sentinel(token: str) -> list[str]:
    """Remove the sentinel; return what was changed about it (empty: it was intact)."""
    table = sql.Identifier(SENTINEL_TABLE.format(token))
    with admin_connect() as conn:
        try:
            rows = conn.execute(sql.SQL("SELECT token FROM {}").format(table)).fetchall()
        except psycopg.errors.UndefinedTable:
            rows = []
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
    changed = [] if rows == [(token,)] else [f"sentinel table rows {rows!r}, expected [({token!r},)]"]
    if not wanted("REDIS_URL"):
        return changed
    r = redis.Redis.from_url(url("REDIS_URL"))
    key = r.get(SENTINEL_KEY.format(token))
    r.delete(SENTINEL_KEY.format(token))
    r.close()
    return changed + ([] if key == token.encode() else [f"sentinel key {key!r}, expected {token!r}"])
