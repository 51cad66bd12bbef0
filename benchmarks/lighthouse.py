"""Lighthouse budgets for every page of the built site (a script, not a test: scores are measurements).

    npm ci                                   # lighthouse 12, pinned in package.json
    uv run python -m benchmarks.lighthouse   # every page, desktop and mobile, 3 runs each
    uv run python -m benchmarks.lighthouse --runs 1 --form mobile --page questions/02

Builds the site (strict) for the URL it is served at, serves it on 127.0.0.1 gzip-compressed like a
static host, runs Lighthouse (CHROME_PATH, default /usr/bin/chromium) and takes the median score of each
category over the runs. Writes benchmarks/results/lighthouse.json and exits 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from verify import browser

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "node_modules" / "lighthouse" / "cli" / "index.js"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
# issue 11: mobile performance >= 95, desktop 100, accessibility >= 98, best practices and SEO 100
BUDGETS = {
    ("desktop", "performance"): 100,
    ("mobile", "performance"): 95,
    **{(form, "accessibility"): 98 for form in ("desktop", "mobile")},
    **{(form, c): 100 for form in ("desktop", "mobile") for c in ("best-practices", "seo")},
}
TRANSFER_BUDGET = 300_000  # bytes, gzipped as served, for every page
METRICS = ["first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift"]


def lighthouse_once(url: str, form: str, out: Path) -> dict[str, Any]:
    flags = " ".join(["--headless=new", *browser.CHROME_ARGS])
    cmd = [
        "node",
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={flags}",
        "--max-wait-for-load=60000",
    ]
    if form == "desktop":
        cmd.append("--preset=desktop")
    env = {**os.environ, "CHROME_PATH": browser.CHROME_PATH}
    subprocess.run(cmd, check=True, env=env, timeout=300, capture_output=True)
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return report


def summarise(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of each category score (0-100) and of a few metrics over the runs, plus why points were lost."""
    scores = {
        c: round(statistics.median(100 * (r["categories"][c]["score"] or 0) for r in reports)) for c in CATEGORIES
    }
    metrics = {m: statistics.median(r["audits"][m]["numericValue"] for r in reports) for m in METRICS}
    weight = statistics.median(r["audits"]["total-byte-weight"]["numericValue"] for r in reports)
    failing = sorted(
        {
            f"{c}: {a['id']}"
            for r in reports
            for c in CATEGORIES[1:]
            for ref in r["categories"][c]["auditRefs"]
            if ref["weight"] > 0
            for a in [r["audits"][ref["id"]]]
            if a["score"] is not None and a["score"] < 1
        }
    )
    return {"scores": scores, "metrics": metrics, "transfer_bytes": weight, "failing_audits": failing}


def write(
    results: dict[str, dict[str, Any]], misses: list[str], args: argparse.Namespace, machine: dict[str, str]
) -> None:
    rows = [
        [url, form, *(s["scores"][c] for c in CATEGORIES), round(s["metrics"]["total-blocking-time"])]
        for url, forms_ in results.items()
        for form, s in forms_.items()
    ]
    out = {
        "name": "lighthouse",
        "script": "benchmarks/lighthouse.py",
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "runs_per_page": args.runs,
        "budgets": {**{f"{f} {c}": b for (f, c), b in BUDGETS.items()}, "transfer bytes": TRANSFER_BUDGET},
        "tables": {
            "scores": {
                "columns": ["Page", "Form", "Performance", "Accessibility", "Best practices", "SEO", "TBT (ms)"],
                "rows": rows,
            }
        },
        "pages": results,
        "budget_misses": misses,
    }
    if not args.no_write:
        path = ROOT / "benchmarks" / "results" / "lighthouse.json"
        path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--form", choices=["desktop", "mobile"], action="append")
    ap.add_argument("--page", action="append", help="only pages whose URL contains this")
    ap.add_argument("--config", type=Path, default=ROOT / "mkdocs.yml", help="the mkdocs.yml to build")
    ap.add_argument("--no-write", action="store_true", help="do not write benchmarks/results/lighthouse.json")
    args = ap.parse_args(argv)
    forms = args.form or ["desktop", "mobile"]
    if not LIGHTHOUSE.is_file():
        print("lighthouse is not installed: run `npm ci` in the repository root", file=sys.stderr)
        return 3
    results: dict[str, dict[str, Any]] = {}
    misses: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="lighthouse-") as tmp,
        browser.hosted(args.config, Path(tmp), compress=True) as (site_dir, base, build),
    ):
        if build.returncode != 0:
            print(build.stdout + build.stderr, file=sys.stderr)
            return 2
        urls = [u for u in browser.pages(site_dir) if not args.page or any(s in u for s in args.page)]
        version = json.loads((ROOT / "node_modules/lighthouse/package.json").read_text(encoding="utf-8"))["version"]
        chromium = subprocess.run([browser.CHROME_PATH, "--version"], capture_output=True, text=True).stdout.strip()
        machine = {
            "CPU": f"{os.cpu_count()} × {platform.processor() or platform.machine()}",
            "Lighthouse": version,
            "Chromium": chromium,
            # Lighthouse simulates a slow phone from the CPU time it observes: a busy machine lowers scores
            "load average at start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        }
        for url in urls:
            for form in forms:
                reports = [lighthouse_once(base + url, form, Path(tmp) / f"r{i}.json") for i in range(args.runs)]
                summary = summarise(reports)
                results.setdefault(url or "/", {})[form] = summary
                for c, score in summary["scores"].items():
                    if score < BUDGETS[(form, c)]:
                        misses.append(f"{url or '/'} {form} {c} {score} < {BUDGETS[(form, c)]}")
                if summary["transfer_bytes"] > TRANSFER_BUDGET:
                    misses.append(f"{url or '/'} {form} transfer {summary['transfer_bytes']:.0f} B > {TRANSFER_BUDGET}")
                s, m = summary["scores"], summary["metrics"]
                print(
                    f"{url or '/':40} {form:7} perf {s['performance']:3} a11y {s['accessibility']:3} "
                    f"bp {s['best-practices']:3} seo {s['seo']:3}  TBT {m['total-blocking-time']:.0f} ms "
                    f"LCP {m['largest-contentful-paint']:.0f} ms  {summary['transfer_bytes'] / 1024:.0f} KiB",
                    flush=True,
                )
                for audit in summary["failing_audits"]:
                    print(f"    loses points: {audit}", flush=True)
                write(results, misses, args, machine)
    print("\n".join(["budget misses:", *misses]) if misses else "every budget met")
    return 1 if misses else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
