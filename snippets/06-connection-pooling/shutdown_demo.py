"""Start app.py, send it SIGTERM while a request is in flight, and watch it drain and close its pool."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg

# --8<-- [start:free_port]
APP_NAME = "q6-app"  # the application_name app.py's pool connects with


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_sessions(url: str) -> tuple[int, int]:
    """(sessions of the app, how many of them are running pg_sleep), as the server sees them."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE state = 'active' AND query LIKE 'SELECT pg_sleep%%')"
            " FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            [APP_NAME],
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def healthy(base: str) -> bool:
    try:
        return httpx.get(base + "/health").is_success
    except httpx.TransportError:
        return False


def wait_until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.05)


# --8<-- [end:free_port]


# --8<-- [start:run_demo]
def run_demo(url: str) -> tuple[list[str], int]:
    """Report lines and the server's exit status."""
    port = free_port()
    base, app_dir = f"http://127.0.0.1:{port}", str(Path(__file__).parent)
    server = subprocess.Popen(  # what a container runs: uvicorn, the app factory, one port
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            app_dir,
            "--factory",
            "app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "DATABASE_URL": url},
    )
    try:
        wait_until(lambda: healthy(base))
        answer: list[object] = []
        client = threading.Thread(target=lambda: answer.append(httpx.get(base + "/slow", timeout=30).json()))
        client.start()
        wait_until(lambda: app_sessions(url)[1] == 1)  # the request's query is running in PostgreSQL
        server.send_signal(signal.SIGTERM)
        wait_until(lambda: not healthy(base), timeout=0.5)  # new requests are refused at once...
        alive = client.is_alive()  # ...while the one in flight is still running
        client.join()
        out, _ = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    report = [line for line in out.splitlines() if line.startswith("app:")]
    report[1:1] = [
        f"SIGTERM sent during GET /slow; new requests refused while it ran: {alive}",
        f"the in-flight request was answered: {answer[0]}",
    ]
    wait_until(lambda: app_sessions(url)[0] == 0, timeout=5)  # a closed session leaves once its backend exits
    report.append(f"app sessions left in PostgreSQL: {app_sessions(url)[0]}")
    return report, server.returncode


def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    report, status = run_demo(url)
    print("\n".join(report))
    print(f"server exit status: {status} (uvicorn re-raises SIGTERM once it has shut down cleanly)")


if __name__ == "__main__":
    main()
# --8<-- [end:run_demo]
