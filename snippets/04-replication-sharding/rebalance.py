"""Adding a 4th shard to 3: how many of 100,000 keys move with modulo, a consistent-hash ring, rendezvous."""

import bisect
import hashlib


def stable_hash(key: str | int) -> int:
    """The same 64-bit number for the same key in every process, on every machine."""
    return int.from_bytes(hashlib.blake2b(str(key).encode(), digest_size=8).digest(), "big")


def modulo(key: str, shards: list[str]) -> str:
    return shards[stable_hash(key) % len(shards)]


class Ring:
    """Consistent hashing: each shard owns many points (virtual nodes) on a 64-bit circle;
    a key belongs to the first point clockwise from its hash."""

    def __init__(self, shards: list[str], vnodes: int = 200) -> None:
        points = sorted((stable_hash(f"{s}#{v}"), s) for s in shards for v in range(vnodes))
        self.hashes = [h for h, _ in points]
        self.owners = [s for _, s in points]

    def shard(self, key: str) -> str:
        return self.owners[bisect.bisect(self.hashes, stable_hash(key)) % len(self.owners)]


def rendezvous(key: str, shards: list[str]) -> str:
    """Highest random weight: every shard scores the key, the highest score wins."""
    return max(shards, key=lambda s: stable_hash(f"{s}:{key}"))


def moved(keys: list[str], before: list[str], after: list[str]) -> dict[str, int]:
    old_ring, new_ring = Ring(before), Ring(after)
    return {
        "modulo": sum(modulo(k, before) != modulo(k, after) for k in keys),
        "consistent ring": sum(old_ring.shard(k) != new_ring.shard(k) for k in keys),
        "rendezvous": sum(rendezvous(k, before) != rendezvous(k, after) for k in keys),
    }


def main() -> None:
    keys = [f"user-{i}" for i in range(100_000)]
    before, after = ["s0", "s1", "s2"], ["s0", "s1", "s2", "s3"]
    print(f"{'strategy':<16} {'keys moved':>10} {'share':>7}")
    for name, n in moved(keys, before, after).items():
        print(f"{name:<16} {n:>10,} {n / len(keys):>7.1%}")
    print(f"{'ideal (1/4)':<16} {len(keys) // 4:>10,} {0.25:>7.1%}")


if __name__ == "__main__":
    main()
