"""Per-question downloads: the programs of a question that work together, as one zip served by the site.

Some examples are several files (Q1's services started by ``run_all.py``, Q3's ``jobs_demo.py`` importing
``jobs.py``, Q6's ``shutdown_demo.py`` starting ``app.py``): a reader who copies one block has only one of
them. Each such question gets ``docs/downloads/NN-topic.zip``: the question's programs, a ``pyproject.toml``
with the pinned libraries they import (taken from the project's own), a ``uv.lock`` cut from the project's
own lock (see ``lock``: the versions the site verified, and ``uv run`` has nothing to resolve), and a
``README.txt`` with the one command to run after unzipping, ``uv run python <entry>``. The zips are derived
files, committed like the diagrams' SVGs, so ``mkdocs build`` and ``zensical build`` copy them as they are
and need nothing else:

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
from typing import Any

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


def distribution(requirement: str) -> str:
    """The normalized distribution name of a requirement: `psycopg[binary]==3.3.9` -> `psycopg`."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\[=<>~! ]", requirement, maxsplit=1)[0]).lower()


def pinned(root: Path) -> dict[str, str]:
    """The project's pinned requirements, by distribution name (extras dropped from the key)."""
    deps = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    return {distribution(d): d for d in deps}


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


PACKAGE = "\n[[package]]\n"  # what separates the entries of a uv.lock
OPTIONAL = "[package.optional-dependencies]"
# the root entry `uv lock` writes for a virtual project (`[tool.uv] package = false`)
ROOT_ENTRY = (
    'name = "{name}"\nversion = "0"\nsource = {{ virtual = "." }}\ndependencies = [\n{deps}]\n\n'
    "[package.metadata]\nrequires-dist = [\n{requires}]\n"
)
Entry = tuple[dict[str, Any], str]  # a package entry of a uv.lock: parsed, and as written


def lock_entries(root: Path) -> tuple[str, list[Entry]]:
    """The project's uv.lock: its header and its package entries."""
    header, *entries = (root / "uv.lock").read_text(encoding="utf-8").split(PACKAGE)
    return header, [(tomllib.loads(PACKAGE + e)["package"][0], e) for e in entries]


def item(line: str) -> dict[str, Any]:
    """One array item of a lock entry, as uv writes them one a line: `    { name = "x", ... },`."""
    parsed: dict[str, Any] = tomllib.loads(f"item = {line.strip().rstrip(',')}")["item"]
    return parsed


def listed(entry: str, key: str, names: set[str]) -> list[str]:
    """The lines of the array `key = [ ... ]` of a lock entry that name one of ``names``."""
    lines = entry.splitlines()
    start = lines.index(f"{key} = [")
    return [line for line in lines[start + 1 : lines.index("]", start)] if item(line)["name"] in names]


def only_extras(entry: str, extras: set[str]) -> str:
    """The entry with only the given groups of its optional dependencies (uv lists only the extras
    something in the lock asks for), and no such section if none is asked for."""
    lines = entry.rstrip("\n").split("\n")
    if OPTIONAL not in lines:
        return entry
    start = lines.index(OPTIONAL)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    groups: list[list[str]] = []  # `extra = [`, its items, `]`
    for line in lines[start + 1 : end]:
        if line.endswith(" = ["):
            groups.append([])
        if line:
            groups[-1].append(line)
    kept = [line for g in groups if g[0].split(" = ")[0] in extras for line in g]
    section = ["", OPTIONAL, *kept] if kept else []
    rest = ["", *lines[end:]] if end < len(lines) else []
    return "\n".join(lines[: start - 1] + section + rest) + "\n"


def closure(deps: list[dict[str, Any]], entries: list[Entry]) -> dict[str, set[str]]:
    """The packages the dependencies ``deps`` need in the lock, each with the extras asked of it."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for data, _ in entries:
        by_name.setdefault(data["name"], []).append(data)
    todo = list(deps)
    needs: dict[str, set[str]] = {}
    while todo:
        dep = todo.pop()
        [data] = by_name[dep["name"]]
        if "resolution-markers" in data:
            raise ValueError(f"the project's lock forks {dep['name']} by Python version: cut it by hand")
        if dep["name"] not in needs:
            todo += data.get("dependencies", [])
        new = set(dep.get("extra", [])) - needs.setdefault(dep["name"], set())
        needs[dep["name"]] |= new
        for extra in new:
            todo += data["optional-dependencies"][extra]
    return needs


def lock(name: str, wanted: list[str], root: Path) -> str:
    """The uv.lock of a virtual project ``name`` depending on the project's requirements ``wanted``
    (distribution names), cut from the project's uv.lock without resolving (no network, no `uv lock`): a
    root entry as `uv lock` writes one, its lines taken from the project's root entry, then verbatim the
    entries of exactly the packages those requirements need. `uv run` finds it up to date (its root asks
    what the pyproject asks), so it installs these versions, the ones the site verified, resolving nothing."""
    header, entries = lock_entries(root)
    names = set(wanted)
    root_entry = next(text for data, text in entries if data["source"] == {"editable": "."})
    deps, requires = listed(root_entry, "dependencies", names), listed(root_entry, "requires-dist", names)
    if len(deps) != len(names) or len(requires) != len(names):
        raise ValueError(f"{name}: not all of {sorted(names)} are the project's dependencies in uv.lock")
    top = ROOT_ENTRY.format(
        name=name, deps="".join(f"{d}\n" for d in deps), requires="".join(f"{r}\n" for r in requires)
    )
    needs = closure([item(d) for d in deps], entries)
    cut = [(data["name"], only_extras(text, needs[data["name"]])) for data, text in entries if data["name"] in needs]
    kept = ("version", "revision", "requires-python")  # no resolution-markers: `closure` refuses forks
    head = "".join(f"{line}\n" for line in header.splitlines() if line.split(" = ")[0] in kept)
    return head + "".join(PACKAGE + text.rstrip("\n") + "\n" for _, text in sorted([*cut, (name, top)]))


def members(archive: Archive, root: Path) -> dict[str, bytes]:
    folder = archive.question
    reqs = requirements(archive, root)
    deps = "".join(f'    "{r}",\n' for r in reqs)
    python = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    pyproject = (
        f'[project]\nname = "{folder}"\nversion = "0"\nrequires-python = "{python}"\n'
        f"dependencies = [\n{deps}]\n\n[tool.uv]\npackage = false\n"
    )
    commands = "\n".join(f"    {archive.command(e)}" for e in archive.entries)
    readme = (
        f"The programs of {folder}, as the site shows them.\n\n"
        "With PostgreSQL, Redis and RabbitMQ on their local ports (or DATABASE_URL, REDIS_URL, AMQP_URL set),\n"
        f"run in this folder:\n\n{commands}\n\n"
        "uv installs the libraries listed in pyproject.toml on first use (pip install uv), at the versions\n"
        "uv.lock pins: the ones the site verified these programs with.\n"
    )
    out = {f"{folder}/{f}": (root / "snippets" / folder / f).read_bytes() for f in archive.files}
    out[f"{folder}/pyproject.toml"] = pyproject.encode()
    out[f"{folder}/uv.lock"] = lock(folder, [distribution(r) for r in reqs], root).encode()
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
