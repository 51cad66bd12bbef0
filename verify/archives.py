"""Per-question downloads: the programs of a question that work together, as one zip served by the site.

Some examples are several files (Q1's services started by ``run_all.py``, Q3's ``jobs_demo.py`` importing
``jobs.py``, Q6's ``shutdown_demo.py`` starting ``app.py``): a reader who copies one block has only one of
them. Each such question gets ``docs/downloads/NN-topic.zip``: the question's programs, a ``pyproject.toml``
with the pinned libraries they import (taken from the project's own), and a ``README.txt`` with the one
command to run after unzipping, ``uv run python <entry>``. The zips are derived files, committed like the
diagrams' SVGs, so ``mkdocs build`` and ``zensical build`` copy them as they are and need nothing else:

    uv run python -m verify.archives            # write the zips that changed
    uv run python -m verify.archives --check    # only report (tests/test_reader.py fails while one is stale)

A zip is deterministic (sorted names, fixed timestamps), so an unchanged question rewrites nothing.
"""

from __future__ import annotations

import io
import re
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOWNLOADS = "downloads"  # under docs/, and so under the built site
EPOCH = (2020, 1, 1, 0, 0, 0)  # every member's timestamp: the bytes depend on the contents only


@dataclass(frozen=True)
class Archive:
    question: str  # the snippets folder, e.g. "01-microservices"
    files: tuple[str, ...]  # the programs in it, from snippets/<question>/
    entries: tuple[str, ...]  # what a reader runs after unzipping, in order
    runs: tuple[str, ...] = ()  # libraries a program starts (python -m uvicorn) without importing them

    @property
    def name(self) -> str:
        return f"{self.question}.zip"

    def command(self, entry: str) -> str:
        return f"uv run python {entry}"


ARCHIVES = (
    Archive(
        "01-microservices",
        (
            "users_service.py",
            "inventory_service.py",
            "orders_service.py",
            "outbox_relay.py",
            "inventory_consumer.py",
            "orders_saga.py",
            "run_all.py",
        ),
        ("run_all.py",),
    ),
    Archive("03-message-queues", ("jobs.py", "jobs_demo.py"), ("jobs_demo.py",)),
    Archive("06-connection-pooling", ("app.py", "shutdown_demo.py"), ("shutdown_demo.py",), runs=("uvicorn",)),
)

IMPORT = re.compile(r"^\s*(?:from|import)\s+(?P<module>[A-Za-z_]\w*)", re.M)
# import name -> distribution name, where they differ
DISTRIBUTION = {"psycopg_pool": "psycopg-pool", "aio_pika": "aio-pika", "pydantic": "fastapi"}


def pinned(root: Path) -> dict[str, str]:
    """The project's pinned requirements, by distribution name (extras dropped from the key)."""
    deps = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    return {re.split(r"[\[=<>~! ]", d, maxsplit=1)[0].lower(): d for d in deps}


def requirements(archive: Archive, root: Path) -> list[str]:
    """The pinned requirements of the libraries the archive's programs import."""
    pins = pinned(root)
    found = {pins[r] for r in archive.runs}
    for f in archive.files:
        for m in IMPORT.finditer((root / "snippets" / archive.question / f).read_text(encoding="utf-8")):
            dist = DISTRIBUTION.get(m["module"], m["module"]).lower().replace("_", "-")
            if dist in pins:
                found.add(pins[dist])
    return sorted(found)


def members(archive: Archive, root: Path) -> dict[str, bytes]:
    folder = archive.question
    deps = "".join(f'    "{r}",\n' for r in requirements(archive, root))
    pyproject = (
        f'[project]\nname = "{folder}"\nversion = "0"\nrequires-python = ">=3.11"\n'
        f"dependencies = [\n{deps}]\n\n[tool.uv]\npackage = false\n"
    )
    commands = "\n".join(f"    {archive.command(e)}" for e in archive.entries)
    readme = (
        f"The programs of {folder}, as the site shows them.\n\n"
        "With PostgreSQL, Redis and RabbitMQ on their local ports (or DATABASE_URL, REDIS_URL, AMQP_URL set),\n"
        f"run in this folder:\n\n{commands}\n\n"
        "uv installs the libraries listed in pyproject.toml on first use (pip install uv).\n"
    )
    out = {f"{folder}/{f}": (root / "snippets" / folder / f).read_bytes() for f in archive.files}
    out[f"{folder}/pyproject.toml"] = pyproject.encode()
    out[f"{folder}/README.txt"] = readme.encode()
    return out


def build(archive: Archive, root: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(members(archive, root).items()):
            info = zipfile.ZipInfo(name, EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def path(archive: Archive, root: Path) -> Path:
    return root / "docs" / DOWNLOADS / archive.name


def stale(root: Path) -> list[str]:
    """The archives whose committed zip differs from what the snippets give now (or that are missing),
    and zips no archive makes."""
    out = [a.name for a in ARCHIVES if not path(a, root).is_file() or path(a, root).read_bytes() != build(a, root)]
    known = {a.name for a in ARCHIVES}
    zips = sorted((root / "docs" / DOWNLOADS).glob("*.zip"))
    out += [f"{p.name} (no archive makes it)" for p in zips if p.name not in known]
    return out


def write(root: Path) -> list[str]:
    (root / "docs" / DOWNLOADS).mkdir(exist_ok=True)
    written = []
    for a in ARCHIVES:
        data = build(a, root)
        p = path(a, root)
        if not p.is_file() or p.read_bytes() != data:
            p.write_bytes(data)
            written.append(a.name)
    for p in (root / "docs" / DOWNLOADS).glob("*.zip"):
        if p.name not in {a.name for a in ARCHIVES}:
            p.unlink()
            written.append(f"{p.name} (deleted)")
    return written


def main(argv: list[str]) -> int:
    if "--check" in argv:
        problems = stale(ROOT)
        for p in problems:
            print(f"stale: {p} (run: uv run python -m verify.archives)")
        return 1 if problems else 0
    for name in write(ROOT):
        print(f"wrote docs/{DOWNLOADS}/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
