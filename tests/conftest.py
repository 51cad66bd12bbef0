"""Fixtures: for the proofs under tests/questions/ a throwaway space, also set in os.environ; for the site
checks the one strict build of the site as it is published."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from verify import browser, spaces, stamps
from verify.helpers import ROOT, environment

CONFIG = Path(os.environ.get("VERIFY_MKDOCS_CONFIG", ROOT / "mkdocs.yml"))  # as tests/test_site.py


@pytest.fixture(scope="module")
def space(request: pytest.FixtureRequest) -> Iterator[spaces.Space]:
    """A throwaway PostgreSQL role+database, Redis prefix and RabbitMQ prefix for one test module (no
    RabbitMQ vhost for the proofs of a page that does not use RabbitMQ)."""
    module = Path(request.module.__file__)
    page = stamps.page_of_proofs(module, ROOT)
    with spaces.space(module.stem, broker=not page.is_file() or stamps.uses_rabbitmq(page, ROOT)) as s:
        yield s


@pytest.fixture(scope="module")
def env(space: spaces.Space) -> Iterator[dict[str, str]]:
    """The environment a snippet sees (DATABASE_URL, REDIS_URL, AMQP_URL, DEMO_PREFIX), also set in
    os.environ for the module, so an imported snippet reads the throwaway space."""
    with environment(space.env):
        yield space.env


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> browser.Published:
    """The strict build of mkdocs.yml as it is, built once for the whole run (xdist workers share it)."""
    base = tmp_path_factory.getbasetemp()
    return browser.publish_once(CONFIG, base if worker_id == "master" else base.parent)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser checks in dark mode run on another xdist worker than those in light mode (each
    worker builds the hosted site once): the two halves of tests/test_site.py run side by side."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if item.path.name == "test_site.py" and callspec is not None and callspec.params.get("dark") is True:
            item.add_marker(pytest.mark.xdist_group("tests/test_site.py[dark]"))
