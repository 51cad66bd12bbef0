"""Project-level checks: the commands agree everywhere, compose matches the engine, no orphan
snippets, snippets are lint- and type-clean, every figure a page quotes exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from verify import figures, spaces
from verify.page import read_page

ROOT = Path(__file__).resolve().parent.parent
SERVE, TEST = "uv run mkdocs serve", "uv run pytest"


def console_commands(markdown: str) -> list[str]:
    blocks = re.findall(r"^```console\n(.*?)^```", markdown, re.M | re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_readme_run_page_and_ci_agree_on_the_two_commands() -> None:
    readme = console_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    page = console_commands((ROOT / "docs/run-the-examples.md").read_text(encoding="utf-8"))
    assert readme[:2] == [SERVE, TEST]
    assert page[:2] == [SERVE, TEST]
    ci_lines = [line.strip() for line in (ROOT / ".ci/run").read_text(encoding="utf-8").splitlines()]
    assert ci_lines[-1] == TEST, "the last thing .ci/run does is the README's test command"


def test_compose_matches_the_engine_defaults() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    for name, service in spaces.COMPOSE_SERVICE.items():
        host, port = _default_host_port(name)
        published = compose[service]["ports"]
        assert f"{host}:{port}:{port}" in published, (service, published)
        assert "healthcheck" in compose[service]
        assert re.search(r":\d+\.\d+(\.\d+)?(-\w+)?$", compose[service]["image"]), "pin the image version"
    pg = compose["postgres"]["environment"]
    assert pg["POSTGRES_USER"] == "postgres" and pg["POSTGRES_HOST_AUTH_METHOD"] == "trust"
    rmq = compose["rabbitmq"]["environment"]
    assert (rmq["RABBITMQ_DEFAULT_USER"], rmq["RABBITMQ_DEFAULT_PASS"]) == ("guest", "guest")
    assert spaces.DEFAULTS["AMQP_URL"].startswith("amqp://guest:guest@")
    assert spaces.DEFAULTS["DATABASE_URL"].startswith("postgresql://postgres@")


def _default_host_port(name: str) -> tuple[str, int]:
    from urllib.parse import urlsplit

    parts = urlsplit(spaces.DEFAULTS[name])
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


def test_every_snippet_is_shown_and_run_by_a_page() -> None:
    """Every file under snippets/ is shown by a page, and run by a block of a page, or (a file that
    cannot run here, like a compose file for a Docker engine) read by a proof under tests/questions/."""
    shown: set[Path] = set()
    run: set[Path] = set()
    for page in sorted((ROOT / "docs").rglob("*.md")):
        for block in read_page(page, ROOT, ROOT / "mkdocs.yml").blocks:
            shown.update(block.files)
            if block.runs:
                run.update(block.files)
    proofs = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests" / "questions").glob("*.py"))
    snippets = {p.resolve() for p in (ROOT / "snippets").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    not_shown = sorted(str(p.relative_to(ROOT)) for p in snippets - shown)
    not_run = sorted(str(p.relative_to(ROOT)) for p in snippets - run if p.name not in proofs)
    assert (not_shown, not_run) == ([], [])


def test_every_figure_a_page_quotes_exists() -> None:
    missing = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        for line, kind, name, key in figures.references(text):
            try:
                figures.resolve(kind, name, key)
            except figures.MissingFigure as e:
                missing.append(f"{page.relative_to(ROOT)}:{line}: {e}")
    assert missing == []


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_ruff_is_clean(command: list[str]) -> None:
    """One linter and one formatter style over every Python file (pyproject.toml [tool.ruff])."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "snippets", "tests", "benchmarks", "verify", "conftest.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_snippets_engine_tests_and_benchmarks_are_typed() -> None:
    """What readers copy, and everything else, passes mypy --strict (pyproject.toml [tool.mypy]); one
    mypy run, so the libraries are analysed once."""
    cmd = [sys.executable, "-m", "mypy", "snippets", "verify", "tests", "benchmarks", "conftest.py"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
