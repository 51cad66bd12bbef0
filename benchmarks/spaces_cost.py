"""What a page's throwaway space costs the run: N spaces (verify/spaces.py) created and removed one after
another, as one xdist worker does page after page; each timed apart.

    uv run python -m benchmarks.spaces_cost [N] [LABEL]

LABEL (e.g. 01-microservices) gives each space the databases spaces.DATABASES lists for it.

Not a page figure (no `run(env)`), so `python -m benchmarks` does not run it; it prints its numbers.
"""

from __future__ import annotations

import json
import secrets
import statistics
import sys
import time

from verify import spaces


def measure(n: int, label: str = "") -> dict[str, object]:
    create, cleanup = [], []
    for _ in range(n):
        space = spaces.Space(f"vd_bench_spaces_{secrets.token_hex(3)}", spaces.DATABASES.get(label, ()))
        t0 = time.perf_counter()
        space.create()
        t1 = time.perf_counter()
        left = space.cleanup()
        t2 = time.perf_counter()
        if left:
            raise RuntimeError(f"{space.name} was left behind: {left}")
        create.append(t1 - t0)
        cleanup.append(t2 - t1)

    def summary(times: list[float]) -> dict[str, float]:
        return {
            k: round(v, 3) for k, v in (("median", statistics.median(times)), ("min", min(times)), ("max", max(times)))
        }

    return {
        "spaces": n,
        "databases_each": 1 + len(spaces.DATABASES.get(label, ())),
        "create_s": summary(create),
        "cleanup_s": summary(cleanup),
        "per_space_s": round((sum(create) + sum(cleanup)) / n, 3),
    }


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 10, *sys.argv[2:3]), indent=2))
