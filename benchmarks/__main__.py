"""Run benchmarks and write their results into benchmarks/results/ for the pages to include.

    uv run python -m benchmarks                 # every benchmark
    uv run python -m benchmarks q02_bank        # one of them

Each module ``benchmarks/<name>.py`` has ``run(env) -> {"figures": {...}, "tables": {...}}``;
``env`` holds DATABASE_URL/REDIS_URL/AMQP_URL/DEMO_PREFIX of a throwaway space (verify/spaces.py).
"""

from __future__ import annotations

import importlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.machine import describe
from verify import spaces
from verify.helpers import environment

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in HERE.glob("q[0-9][0-9]_*.py"))
    problem = spaces.ensure_services(str(HERE.parent / "docker-compose.yml"))
    if problem:
        print(problem, file=sys.stderr)
        return 3
    machine = describe()
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}", flush=True)
        # snippets and the workers they start read the space from os.environ too
        with spaces.space(f"bench_{name}") as space, environment(space.env):
            measured = module.run(space.env)
        result = {
            "name": name,
            "script": f"benchmarks/{name}.py",
            "generated": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine,
            **measured,
        }
        out = HERE / "results" / f"{name}.json"
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(json.dumps(measured, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
