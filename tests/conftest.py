"""Fixtures for the proofs under tests/questions/: a throwaway space and the page's own snippets."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.harness import services

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def space(request: pytest.FixtureRequest) -> Iterator[services.Space]:
    """A throwaway PostgreSQL role+database, Redis prefix and RabbitMQ prefix for one test module."""
    with services.space(Path(request.module.__file__).stem) as s:
        yield s


@pytest.fixture(scope="module")
def env(space: services.Space) -> Iterator[dict[str, str]]:
    """The environment a snippet sees (DATABASE_URL, REDIS_URL, AMQP_URL, DEMO_PREFIX), also set in
    os.environ for the module, so an imported snippet reads the throwaway space."""
    with pytest.MonkeyPatch.context() as mp:
        for k, v in space.env.items():
            mp.setenv(k, v)
        yield space.env


def load_snippet(relpath: str) -> ModuleType:
    """Import snippets/<relpath> as a module (its ``if __name__ == "__main__"`` part does not run)."""
    path = ROOT / "snippets" / relpath
    name = "snippet_" + "".join(c if c.isalnum() else "_" for c in relpath)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
