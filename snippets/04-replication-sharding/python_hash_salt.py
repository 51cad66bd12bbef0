"""Python's built-in hash() of a str is salted per process: a shard map built on it moves on restart."""

import hashlib
import os
import subprocess
import sys


def stable_hash(key: str | int) -> int:
    """The same 64-bit number for the same key in every process, on every machine."""
    return int.from_bytes(hashlib.blake2b(str(key).encode(), digest_size=8).digest(), "big")


PROGRAM = "print(hash('user-42') % 3, hash(42) % 3)"


def shard_in_new_process(salt: str) -> str:
    """Shard of 'user-42' and of 42 by built-in hash(), in a fresh interpreter with this PYTHONHASHSEED."""
    env = {**os.environ, "PYTHONHASHSEED": salt}
    out = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def main() -> None:
    for salt in ["1", "2", "3", "4"]:  # each process normally picks a random salt; fixed here to be repeatable
        print(f"process with PYTHONHASHSEED={salt}: hash('user-42') % 3, hash(42) % 3 =", shard_in_new_process(salt))
    print("stable_hash: 'user-42' ->", stable_hash("user-42") % 3, "in every process")


if __name__ == "__main__":
    main()
