"""Run one block the way a reader would, each in its own process with a timeout.

* python: a block that only includes snippet files runs each file whole (``python snippets/x.py``,
  so a traceback points at the snippet's own line); inline code is written to a file named after
  the page and line and run the same way. Either way it runs as ``__main__``.
* sql: ``psql -X -v ON_ERROR_STOP=1`` against the page's database. A block that declares SQLSTATEs
  runs to the end as a pasted script would, and the SQLSTATEs that occurred must be exactly those.
* bash: ``bash -euo pipefail`` from the repository root.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from verify.page import Block

# psql with VERBOSITY=verbose prints "ERROR:  23514: message" and a LOCATION line; we record the
# SQLSTATE and print what psql's default verbosity prints.
PSQL_MESSAGE = re.compile(
    r"^(?P<head>(?:psql:<stdin>:\d+: )?(?:ERROR|WARNING|NOTICE|FATAL|INFO|LOG|DEBUG):  )(?P<state>[0-9A-Z]{5}): "
)
# fields only VERBOSITY=verbose prints
PSQL_VERBOSE_ONLY = re.compile(r"^(LOCATION|SCHEMA NAME|TABLE NAME|COLUMN NAME|DATATYPE NAME|CONSTRAINT NAME):  ")
EXCEPTION_LINE = re.compile(r"^(?P<name>[A-Za-z_][\w.]*)(?::|$)")


@dataclass
class Result:
    """What running a block gave, and the verdict on it: values, not sentences."""

    stdout: str
    stderr: str
    returncode: int | None  # None: killed at the timeout
    sqlstates: list[str] = field(default_factory=list)
    exception: str | None = None  # final "Name: message" line of a Python traceback
    failures: list[str] = field(default_factory=list)  # why it failed, besides its output
    expected: str | None = None  # the output the page shows for it, if any

    @property
    def shown(self) -> str:
        """What a reader sees as the block's output (an expected failure adds its exception line)."""
        return self.stdout + (self.exception + "\n" if self.exception else "")

    @property
    def output_differs(self) -> bool:
        return self.expected is not None and normalise(self.shown) != normalise(self.expected)

    @property
    def passed(self) -> bool:
        return not self.failures and not self.output_differs

    @property
    def diff(self) -> str:
        if not self.output_differs or self.expected is None:
            return ""
        lines = difflib.unified_diff(
            normalise(self.expected).splitlines(),
            normalise(self.shown).splitlines(),
            "expected (page)",
            "actual (run)",
            lineterm="",
        )
        return "\n".join(lines)


def run_process(
    cmd: list[str], env: dict[str, str], cwd: Path, timeout: float, stdin: str | None = None, merge: bool = False
) -> Result:
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        text=True,
        start_new_session=True,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge else subprocess.PIPE,
    )
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group: servers a snippet started too
        out, err = proc.communicate()
        code = None
    else:
        # a snippet that left a child running (a server, a worker) does not outlive its block
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    return Result(out or "", err or "", code)


def final_exception(stderr: str) -> str | None:
    if "Traceback (most recent call last)" not in stderr:
        return None
    for line in reversed(stderr.rstrip().splitlines()):
        if EXCEPTION_LINE.match(line) and not line.startswith(" "):
            return line
    return None


def run_python(block: Block, env: dict[str, str], workdir: Path) -> Result:
    if block.inline or not block.files:
        path = workdir / f"{block.page.stem}_line{block.line}.py"
        path.write_text(block.code, encoding="utf-8")
        files = [path]
    else:
        files = block.files
    total = Result("", "", 0)
    for f in files:
        o = run_process([sys.executable, str(f)], env, workdir, block.timeout)
        total.stdout += o.stdout
        total.stderr += o.stderr
        total.returncode = o.returncode
        if o.returncode != 0:
            break
    if total.returncode != 0:
        total.exception = final_exception(total.stderr)
    return total


def run_sql(block: Block, env: dict[str, str], workdir: Path) -> Result:
    stop = "0" if block.sqlstates else "1"
    cmd = ["psql", "-X", "-v", f"ON_ERROR_STOP={stop}", "-v", "VERBOSITY=verbose", "-f", "-", env["DATABASE_URL"]]
    o = run_process(cmd, env, workdir, block.timeout, stdin=block.code, merge=True)
    lines = []
    for line in o.stdout.splitlines():
        m = PSQL_MESSAGE.match(line)
        if m:
            if "ERROR" in m["head"] or "FATAL" in m["head"]:
                o.sqlstates.append(m["state"])
            line = m["head"] + line[m.end() :]
        elif PSQL_VERBOSE_ONLY.match(line):
            continue
        lines.append(line)
    o.stdout = "\n".join(lines) + ("\n" if lines else "")
    return o


def run_bash(block: Block, env: dict[str, str], root: Path) -> Result:
    return run_process(["bash", "-euo", "pipefail", "-c", block.code], env, root, block.timeout)


def run_block(block: Block, env: dict[str, str], workdir: Path, root: Path) -> Result:
    """Run a block and judge it against what the page declares."""
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    if block.lang == "python":
        result = run_python(block, full_env, workdir)
    elif block.lang == "sql":
        result = run_sql(block, full_env, workdir)
    else:
        result = run_bash(block, full_env, root)
    result.expected = block.expected_output
    result.failures = failures(block, result)
    return result


def normalise(text: str) -> str:
    """Only trailing whitespace is forgiven: per line, and blank lines at the end."""
    return "\n".join(line.rstrip() for line in text.rstrip().splitlines())


def failures(block: Block, o: Result) -> list[str]:
    """Why this run fails the block, its output aside (empty: it did what the page declares)."""
    if o.returncode is None:
        return [f"timed out after {block.timeout:g}s (killed)"]
    if block.lang == "sql":
        if block.sqlstates:
            if sorted(set(o.sqlstates)) != sorted(set(block.sqlstates)):
                seen = ", ".join(o.sqlstates) or "none"
                return [f"declared SQLSTATE {', '.join(block.sqlstates)} but the errors were: {seen}"]
        elif o.returncode != 0:
            return [f"psql failed (exit {o.returncode}); SQLSTATE {', '.join(o.sqlstates) or '?'}"]
    elif block.raises:
        if o.returncode == 0:
            return [f"declared to raise {block.raises} but it succeeded"]
        m = EXCEPTION_LINE.match(o.exception or "")
        if not m or m["name"].split(".")[-1] != block.raises.split(".")[-1]:
            return [f"declared to raise {block.raises} but it failed with: {o.exception or f'exit {o.returncode}'}"]
    elif o.returncode != 0:
        return [f"exited with status {o.returncode}"]
    return []
