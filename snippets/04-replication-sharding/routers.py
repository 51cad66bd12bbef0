"""Three ways to route a key to a shard: by range, by a stable hash, by geography."""

import bisect
import hashlib


def range_shard(user_id: int, upper_bounds: list[int]) -> int:
    """upper_bounds [1000, 2000]: ids 1..1000 -> 0, 1001..2000 -> 1, 2001 and up -> 2 (the last is open)."""
    if user_id < 1:
        raise ValueError(f"user id must be positive, got {user_id}")
    return bisect.bisect_left(upper_bounds, user_id)


def stable_hash(key: str | int) -> int:
    """The same 64-bit number for the same key in every process, on every machine."""
    return int.from_bytes(hashlib.blake2b(str(key).encode(), digest_size=8).digest(), "big")


def hash_shard(key: str | int, n_shards: int) -> int:
    return stable_hash(key) % n_shards


REGIONS = {"US": "us", "CA": "us", "MX": "us", "DE": "eu", "FR": "eu", "IE": "eu", "JP": "asia", "IN": "asia"}


def geo_shard(country: str) -> str:
    """Route by the user's country (ISO code), which the caller must know before it asks."""
    try:
        return REGIONS[country]
    except KeyError:
        raise ValueError(f"no region is configured for country {country!r}") from None


def common_js_hash(key: str | int) -> int:
    """The common answer's JavaScript hash, line for line: for a number, key.length is undefined, so no loop."""
    h = 0
    for ch in key if isinstance(key, str) else "":
        h = ((h << 5) - h + ord(ch)) & 0xFFFFFFFF  # `hash & hash` truncates to a 32-bit int
        h = h - (1 << 32) if h >= 1 << 31 else h
    return abs(h)


def main() -> None:
    ids = [1, 1000, 1001, 2500, 99_999]
    print("range [1000, 2000]:", {i: range_shard(i, [1000, 2000]) for i in ids})
    print("stable hash % 3:   ", {i: hash_shard(i, 3) for i in ids})
    print("common JS hash % 3:", {i: common_js_hash(i) % 3 for i in ids})
    print("common JS hash of strings % 3:", {str(i): common_js_hash(str(i)) % 3 for i in ids})
    print("geo:", {c: geo_shard(c) for c in ["US", "DE", "JP"]})
    try:
        geo_shard("BR")
    except ValueError as e:
        print("geo refuses:", e)


if __name__ == "__main__":
    main()
