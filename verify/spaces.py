"""The three real services: where they are, whether they answer, and throwaway space on them.

Every page (and every test module, and every benchmark) gets its own space, created here and
removed afterwards, so pages run in parallel and nothing of anyone else's is touched:

* PostgreSQL: a login role and a database of the same name, ``vd_<page>_<random>``. The role is not a
  superuser, cannot create roles or databases and has a CONNECTION LIMIT (the page's connection
  budget); nobody but it (and the admin) may connect to its database, and it may not use the default
  database or template1 (SHARED_DATABASES). The other databases a page's programs use,
  ``<name>_<suffix>``, are made beforehand the same way (owned by the role, closed to the others): the
  suffixes are listed in DATABASES under the space's label (page, proof module or benchmark), and a
  program creates a database only if it is missing (a reader's superuser does). Every database named
  from the space or owned by its role is dropped with it.
* Redis: an ACL user of the same name, allowed only keys and pub/sub channels under the page prefix
  (``DEMO_PREFIX``) and no dangerous or administrative command (REDIS_DENIED_CATEGORIES, _COMMANDS).
* RabbitMQ: a virtual host named like the prefix and a user of the same name with rights on it alone;
  deleting the vhost deletes everything the page left in it.

REDIS_URL and AMQP_URL carry the page's user and password, DATABASE_URL its role: a snippet that uses
the URLs it is given holds only its own rights, enforced by the servers. (The servers still accept the
admin logins a reader uses: this is protection from a careless block, not from one that ignores them.)
"""

from __future__ import annotations

import base64
import hashlib
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
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
# Where AMQP_URL points in a space made without a broker: nothing listens on port 1 (binding it takes
# root), so a program that uses RabbitMQ although its page does not say so fails at once with "connection
# refused" instead of reaching the shared broker.
NO_BROKER_PORT = 1


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


def wait_amqp(timeout: float = 60.0, target: str | None = None) -> None:
    """RabbitMQ opens its port before it accepts AMQP logins: wait for a real login (to `target`, default
    AMQP_URL)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pika.BlockingConnection(pika.URLParameters(target or url("AMQP_URL"))).close()
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


def rabbitmqctl_local() -> bool:
    """Whether the broker is administered with rabbitmqctl (a local broker) rather than with the
    management HTTP API (RABBITMQ_MANAGEMENT_URL set, e.g. a broker in a container)."""
    local = host_port("AMQP_URL")[0] in ("127.0.0.1", "localhost")
    return "RABBITMQ_MANAGEMENT_URL" not in os.environ and bool(shutil.which("rabbitmqctl")) and local


def rabbitmqctl_start(*commands: list[str], stdin: str | None = None) -> list[subprocess.Popen[str]]:
    """Start the rabbitmqctl commands side by side (each starts an Erlang VM, most of its time)."""
    procs = [
        subprocess.Popen(
            ["rabbitmqctl", *cmd, "--quiet"],
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for cmd in commands
    ]
    for proc in procs:
        if stdin is not None and proc.stdin is not None:
            proc.stdin.write(stdin)
            proc.stdin.close()
            proc.stdin = None  # written: communicate() must not touch it again
    return procs


def rabbitmqctl_finish(procs: list[subprocess.Popen[str]]) -> list[subprocess.CompletedProcess[str]]:
    done = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=60)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
    return done


def rabbitmqctl(*commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    return rabbitmqctl_finish(rabbitmqctl_start(*commands))


def management(method: str, path: str, body: object = None) -> object:
    """One call to the RabbitMQ management HTTP API (as the admin user of RABBITMQ_MANAGEMENT_URL)."""
    parts = urlsplit(MANAGEMENT_URL)
    base = f"{parts.scheme}://{parts.hostname}:{parts.port}"
    mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, base, parts.username or "", parts.password or "")
    opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(mgr))
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{base}/api/{path}", data=data, method=method)
    req.add_header("content-type", "application/json")
    with opener.open(req, timeout=30) as resp:
        text = resp.read()
    return json.loads(text) if text else None


def rabbit_users_and_vhosts(user: str, vhost: str) -> tuple[list[str], list[str]]:
    """RabbitMQ users and virtual hosts whose names start with user and vhost."""
    if rabbitmqctl_local():
        found = []
        runs = rabbitmqctl(["list_users", "--no-table-headers"], ["list_vhosts", "--no-table-headers"])
        for run, prefix in zip(runs, (user, vhost), strict=True):
            run.check_returncode()
            found.append([line.split("\t")[0] for line in run.stdout.splitlines() if line.startswith(prefix)])
        return found[0], found[1]
    users, vhosts = management("GET", "users"), management("GET", "vhosts")
    assert isinstance(users, list) and isinstance(vhosts, list)
    return [u["name"] for u in users if u["name"].startswith(user)], [
        v["name"] for v in vhosts if v["name"].startswith(vhost)
    ]


def rabbit_password_hash(password: str) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password)), 4-byte salt."""
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def with_credentials(base: str, user: str, password: str, path: str | None = None) -> str:
    """base with user:password in place of its own credentials (and path, if given)."""
    parts = urlsplit(base)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@" + parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path if path is None else path, parts.query, parts.fragment))


# The databases a space's programs use besides its own, <name>_<suffix>, by the space's label: a page
# (docs/questions/<label>.md), a proof module (tests/questions/<label>.py) or a benchmark (bench_<module>).
# The role cannot create databases, so they are made with the space; a program creates one only if it
# is missing, which a reader's own superuser still does.
MICROSERVICES = ("users", "orders", "inventory")  # snippets/01-microservices: one database per service
SHARDS = tuple(f"shard{i}" for i in range(4))  # snippets/04-replication-sharding: <db>_shard<i>
DATABASES: dict[str, tuple[str, ...]] = {
    "01-microservices": MICROSERVICES,
    "test_01_microservices": MICROSERVICES,
    "bench_q01_latency": MICROSERVICES,
    "04-replication-sharding": SHARDS[:3],
    "test_04_replication_sharding": SHARDS[:3],
    "bench_q04_sharding": SHARDS,
}

# The default database and template1: PUBLIC may connect to them (stock grants, not changed here). In
# each, the page role's own session_preload_libraries names a library that does not exist, so the server
# ends the role's session there ('FATAL: could not access file "<NOT_HERE>"'); only a superuser may set
# or reset that parameter, and the setting goes with the role.
SHARED_DATABASES = "SELECT datname FROM pg_database WHERE datname = ANY(%s) AND datallowconn"
NOT_HERE = "verify: a page role connects to its own databases only"

# The databases of a space: named from it, or owned by its role.
SPACE_DATABASES = """SELECT datname FROM pg_database
    WHERE starts_with(datname, %(name)s) OR starts_with(pg_get_userbyid(datdba), %(name)s)"""

# What a page's Redis user may run: every command on its own keys (~prefix*) and channels (&prefix*),
# except the dangerous and administrative ones (FLUSHALL, FLUSHDB, SWAPDB, CONFIG, INFO, DEBUG, CLIENT
# KILL/LIST, SHUTDOWN, ACL, ...) and those that act on every page's scripts or functions at once. KEYS is
# allowed back: like SCAN (which no ACL limits either) it lists names and reads or changes nothing, and
# the limits library's reset() (Q5) runs it in a Lua script.
REDIS_DENIED_CATEGORIES = ["-@dangerous", "-@admin"]
REDIS_DENIED_COMMANDS = ["+keys", "-script|flush", "-script|kill", "-function"]


@dataclass
class Space:
    """A page's throwaway space on the three services, and the environment a snippet sees."""

    name: str  # PostgreSQL role and database, Redis and RabbitMQ user
    databases: tuple[str, ...] = ()  # suffixes of the other databases it holds, <name>_<suffix>
    # a RabbitMQ user and vhost (each rabbitmqctl call boots an Erlang VM: about 0.3 s of CPU, three per
    # space); False for a page that does not use RabbitMQ, whose AMQP_URL then refuses (NO_BROKER_PORT)
    broker: bool = True
    secret: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)  # Redis/RabbitMQ password

    @property
    def prefix(self) -> str:
        """Redis key and channel prefix, RabbitMQ virtual host (the name, dashes for underscores)."""
        return self.name.replace("_", "-")

    @property
    def env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": with_path(url("DATABASE_URL"), self.name, user=self.name),
            "REDIS_URL": with_credentials(url("REDIS_URL"), self.name, self.secret),
            "AMQP_URL": with_credentials(
                url("AMQP_URL") if self.broker else f"amqp://127.0.0.1:{NO_BROKER_PORT}",
                self.name,
                self.secret,
                "/" + quote(self.prefix, safe=""),
            ),
            "DEMO_PREFIX": self.prefix,
        }

    def create(self) -> None:
        rabbit, local = (
            wanted("AMQP_URL") and self.broker,
            rabbitmqctl_local(),
        )  # wanted(): a service the run does not use
        # rabbitmqctl boots an Erlang VM (about a second): it does so while PostgreSQL and Redis are set up
        importing = (
            rabbitmqctl_start(["import_definitions"], stdin=json.dumps(self.rabbit_definitions()))
            if local and rabbit
            else []
        )
        with admin_connect() as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB CONNECTION LIMIT {}").format(
                    sql.Identifier(self.name), sql.Literal(CONNECTION_BUDGET)
                )
            )
            # The shared stock databases let PUBLIC connect, and their grants are not ours to change: a
            # setting of the role's own in each (removed with the role) makes the server end its session.
            shared = conn.execute(SHARED_DATABASES, [["postgres", "template1", conn.info.dbname]]).fetchall()
            for (db,) in shared:
                conn.execute(
                    sql.SQL("ALTER ROLE {} IN DATABASE {} SET session_preload_libraries = {}").format(
                        sql.Identifier(self.name), sql.Identifier(db), sql.Literal(NOT_HERE)
                    )
                )
            for db in [self.name, *(f"{self.name}_{suffix}" for suffix in self.databases)]:
                owner, database = sql.Identifier(self.name), sql.Identifier(db)
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(database, owner))
                # only its owner (and the admin) may connect: not the other pages' roles
                conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(database))
        if wanted("REDIS_URL"):
            r = redis.Redis.from_url(url("REDIS_URL"))
            r.acl_setuser(
                self.name,
                reset=True,
                enabled=True,
                passwords=[f"+{self.secret}"],
                keys=[f"{self.prefix}*"],
                channels=[f"{self.prefix}*"],
                categories=["+@all", *REDIS_DENIED_CATEGORIES],
                commands=REDIS_DENIED_COMMANDS,
            )
            r.close()
        if not rabbit:
            return
        if local:
            rabbitmqctl_finish(importing)[0].check_returncode()
        else:
            for path, body in self.rabbit_definitions(api=True).items():
                management("PUT", path, body)
        wait_amqp(30, self.env["AMQP_URL"])  # an import finishes asynchronously: wait for the user's login

    def rabbit_definitions(self, api: bool = False) -> dict[str, Any]:
        """The page's vhost, user and its permissions on the vhost: as definitions to import (one
        rabbitmqctl call), or as management API paths and the bodies to PUT there."""
        everything = {"configure": ".*", "write": ".*", "read": ".*"}
        if api:
            vhost, user = quote(self.prefix, safe=""), quote(self.name, safe="")
            return {
                f"vhosts/{vhost}": {},
                f"users/{user}": {"password": self.secret, "tags": ""},
                f"permissions/{vhost}/{user}": everything,
            }
        password_hash = rabbit_password_hash(self.secret)
        return {
            "users": [
                {
                    "name": self.name,
                    "password_hash": password_hash,
                    "hashing_algorithm": "rabbit_password_hashing_sha256",
                    "tags": "",
                }
            ],
            "vhosts": [{"name": self.prefix}],
            "permissions": [{"user": self.name, "vhost": self.prefix, **everything}],
        }

    def leftovers(self, rabbit: bool = True) -> list[str]:
        """What this space still holds on any service (empty after cleanup)."""
        left: list[str] = []
        with admin_connect() as conn:
            dbs = conn.execute(SPACE_DATABASES, {"name": self.name}).fetchall()
            roles = conn.execute("SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)", [self.name]).fetchall()
        left += [f"database {d}" for (d,) in dbs] + [f"role {r}" for (r,) in roles]
        if wanted("REDIS_URL"):
            r = redis.Redis.from_url(url("REDIS_URL"))
            left += [f"redis key {k!r}" for k in r.scan_iter(match=self.prefix + "*", count=1000)]
            left += [f"redis channel {c!r} (still subscribed)" for c in r.pubsub_channels(self.prefix + "*")]
            users = [u.decode() if isinstance(u, bytes) else str(u) for u in r.acl_users()]
            left += [f"redis user {u}" for u in users if u.startswith(self.name)]
            r.close()
        rabbit = rabbit and wanted("AMQP_URL") and self.broker
        users, vhosts = rabbit_users_and_vhosts(self.name, self.prefix) if rabbit else ([], [])
        left += [f"rabbitmq user {u}" for u in users] + [f"rabbitmq vhost {v}" for v in vhosts]
        return left

    def cleanup(self) -> list[str]:
        """Remove everything under this space; return what could not be removed."""
        rabbit, local = wanted("AMQP_URL") and self.broker, rabbitmqctl_local()
        # deleting the vhost deletes every queue and exchange in it; the VMs boot while the rest is removed
        deleting = (
            rabbitmqctl_start(["delete_user", self.name], ["delete_vhost", self.prefix]) if local and rabbit else []
        )
        with admin_connect() as conn:
            dbs = conn.execute(SPACE_DATABASES, {"name": self.name}).fetchall()
            for (db,) in dbs:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(self.name)))
        if wanted("REDIS_URL"):
            r = redis.Redis.from_url(url("REDIS_URL"))
            r.acl_deluser(self.name)  # also closes its connections
            keys = list(r.scan_iter(match=self.prefix + "*", count=1000))
            for i in range(0, len(keys), 500):
                r.delete(*keys[i : i + 500])
            r.close()
        failed = []
        if not rabbit:
            pass
        elif local:
            runs = rabbitmqctl_finish(deleting)
            failed = [f"rabbitmq {' '.join(run.args[1:3])}: {run.stderr.strip()}" for run in runs if run.returncode]
        else:
            for path in list(self.rabbit_definitions(api=True))[:2]:  # the vhost and the user
                try:
                    management("DELETE", path)
                except OSError as e:
                    failed.append(f"rabbitmq DELETE {path}: {e}")
        return self.leftovers(rabbit=False) + failed


@contextmanager
def space(label: str, databases: tuple[str, ...] = (), broker: bool = True) -> Iterator[Space]:
    """A new space named after label, with the databases DATABASES lists for it (and `databases`), and a
    RabbitMQ user and vhost if broker; removed afterwards; raises if anything of it is left behind."""
    slug = "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")[:30]
    s = Space(f"vd_{slug}_{secrets.token_hex(3)}", (*DATABASES.get(label, ()), *databases), broker=broker)
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
