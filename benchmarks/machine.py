"""What a measurement ran on: written next to every result."""

from __future__ import annotations

import os
import platform
import subprocess

from verify import spaces


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
    return {
        "CPU": f"{os.cpu_count()} × {cpu_model()}",
        **spaces.server_versions({"PostgreSQL", "Redis", "RabbitMQ"}),
        "OS": subprocess.run(["uname", "-sr"], capture_output=True, text=True).stdout.strip(),
    }
