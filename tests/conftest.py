"""Fixtures for the proofs under tests/questions/: a throwaway space, also set in os.environ."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from verify import spaces
from verify.helpers import environment


@pytest.fixture(scope="module")
def space(request: pytest.FixtureRequest) -> Iterator[spaces.Space]:
    """A throwaway PostgreSQL role+database, Redis prefix and RabbitMQ prefix for one test module."""
    with spaces.space(Path(request.module.__file__).stem) as s:
        yield s


@pytest.fixture(scope="module")
def env(space: spaces.Space) -> Iterator[dict[str, str]]:
    """The environment a snippet sees (DATABASE_URL, REDIS_URL, AMQP_URL, DEMO_PREFIX), also set in
    os.environ for the module, so an imported snippet reads the throwaway space."""
    with environment(space.env):
        yield space.env
