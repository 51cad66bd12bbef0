"""Measured figures on pages: a Python-Markdown extension (``verify.figures`` in mkdocs.yml, honoured by
MkDocs and Zensical alike) and the checks share this module.

A benchmark script writes ``benchmarks/results/<name>.json``::

    {"name": "q06_pooling", "script": "benchmarks/q06_pooling.py",
     "generated": "2026-11-24T03:00:00+00:00", "machine": {...},
     "figures": {"ratio_1": "11.8x", ...},
     "tables": {"latency": {"columns": [...], "rows": [[...], ...]}}}

and a page refers to a value with ``{{ fig: q06_pooling.ratio_1 }}`` (inline) or to a whole table
with ``{{ table: q06_pooling.latency }}`` (on its own line). A reference the results do not contain
raises, so the site build fails instead of printing a gap.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results"
REFERENCE = re.compile(r"\{\{\s*(fig|table)\s*:\s*([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\s*\}\}")


class MissingFigure(KeyError):
    """A page refers to a figure that no committed benchmark result contains."""


def load(name: str, results: Path = RESULTS) -> dict[str, Any]:
    path = results / f"{name}.json"
    if not path.is_file():
        raise MissingFigure(f"no benchmark result {path.name} (run: uv run python -m benchmarks {name})")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def machine_line(result: dict[str, Any]) -> str:
    m = result.get("machine", {})
    parts = [f"{k} {v}" for k, v in m.items()]
    return f"Measured by `{result['script']}` on {result['generated'][:10]}: " + ", ".join(parts) + "."


def render_table(result: dict[str, Any], table: str) -> str:
    t = result["tables"][table]
    head = "| " + " | ".join(t["columns"]) + " |"
    rule = "|" + "|".join(" ---: " if i else " --- " for i in range(len(t["columns"]))) + "|"
    body = ["| " + " | ".join(str(c) for c in row) + " |" for row in t["rows"]]
    return "\n".join([head, rule, *body, "", f"<small>{machine_line(result)}</small>"])


def resolve(kind: str, name: str, key: str, results: Path = RESULTS) -> str:
    result = load(name, results)
    section = "figures" if kind == "fig" else "tables"
    if key not in result.get(section, {}):
        raise MissingFigure(f"{name}.json has no {section[:-1]} {key!r} (has: {sorted(result.get(section, {}))})")
    return str(result["figures"][key]) if kind == "fig" else render_table(result, key)


def references(markdown: str) -> list[tuple[int, str, str, str]]:
    """(line, kind, result name, key) of every reference in a page."""
    return [
        (markdown.count("\n", 0, m.start()) + 1, m.group(1), m.group(2), m.group(3))
        for m in REFERENCE.finditer(markdown)
    ]


def expand(markdown: str, page: str = "<page>", results: Path = RESULTS) -> str:
    def sub(m: re.Match[str]) -> str:
        try:
            return resolve(m.group(1), m.group(2), m.group(3), results)
        except MissingFigure as e:
            line = markdown.count("\n", 0, m.start()) + 1
            raise MissingFigure(f"{page}:{line}: {e}") from None

    return REFERENCE.sub(sub, markdown)


class FiguresPreprocessor(Preprocessor):
    def __init__(self, md: Markdown, results: Path) -> None:
        super().__init__(md)
        self.results = results

    def run(self, lines: list[str]) -> list[str]:
        return expand("\n".join(lines), "<page>", self.results).split("\n")


class FiguresExtension(Extension):
    def __init__(self, **kwargs: Any) -> None:
        self.config = {"results": [str(RESULTS), "folder of the benchmark results"]}
        super().__init__(**kwargs)

    def extendMarkdown(self, md: Markdown) -> None:
        # before pymdownx.snippets (32) and the fences (25): a table becomes Markdown like any other
        md.preprocessors.register(FiguresPreprocessor(md, Path(self.getConfig("results"))), "verify_figures", 40)


def makeExtension(**kwargs: Any) -> FiguresExtension:
    return FiguresExtension(**kwargs)
