"""What a measurement ran on: written next to every result."""

from __future__ import annotations

import os
import platform
import subprocess

import pika
import psycopg
import redis

from tests.harness import services


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def describe() -> dict[str, str]:
    with psycopg.connect(services.url("DATABASE_URL")) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    rv = redis.Redis.from_url(services.url("REDIS_URL")).info("server")["redis_version"]
    amqp = pika.BlockingConnection(pika.URLParameters(services.url("AMQP_URL")))
    rmq = amqp._impl.server_properties.get("version", b"?")
    amqp.close()
    return {
        "CPU": f"{os.cpu_count()} × {cpu_model()}",
        "Python": platform.python_version(),
        "PostgreSQL": pg.split()[0],
        "Redis": str(rv),
        "RabbitMQ": rmq.decode() if isinstance(rmq, bytes) else str(rmq),
        "OS": subprocess.run(["uname", "-sr"], capture_output=True, text=True).stdout.strip(),
    }
