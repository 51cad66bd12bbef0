"""Which master owns a key, what a master says about a key it does not own, and hash tags."""

import os

import redis
from redis.cluster import RedisCluster
from redis_cluster import redis_cluster  # redis_cluster.py, next to this file

PREFIX = os.environ.get("DEMO_PREFIX", "demo")


def slot_ranges(rc: RedisCluster) -> dict[tuple[int, int], int]:
    """{(first slot, last slot): port of the master serving them}, from CLUSTER SLOTS."""
    slots: dict[tuple[int, int], dict[str, tuple[str, int]]] = rc.cluster_slots()  # type: ignore[assignment]
    return {rng: int(v["primary"][1]) for rng, v in slots.items()}


def master_of(rc: RedisCluster, key: str) -> tuple[tuple[int, int], int]:
    slot = rc.cluster_keyslot(key)
    return next((rng, port) for rng, port in slot_ranges(rc).items() if rng[0] <= slot <= rng[1])


def main() -> None:
    with redis_cluster() as ports:
        rc = RedisCluster(host="127.0.0.1", port=ports[0])
        print("cluster_state:", rc.cluster_info()["cluster_state"], "| masters serve slots:", sorted(slot_ranges(rc)))
        for user in (1, 3, 4):
            key = f"{PREFIX}:{{user:{user}}}:profile"  # only the {hash tag} is hashed
            slot = rc.cluster_keyslot(key)  # asked of the server (CRC16 of the tag mod 16384)
            print(f"<prefix>:{{user:{user}}}:profile  slot {slot:>5}  master serving slots {master_of(rc, key)[0]}")
        key = f"{PREFIX}:{{user:1}}:profile"
        wrong = next(p for p in ports if p != master_of(rc, key)[1])
        try:
            redis.Redis(port=wrong).set(key, "x")
        except redis.ResponseError as e:  # the server said: MOVED <slot> <host:port of the owner>
            moved_slot, where = str(e).split()
            is_owner = where == f"127.0.0.1:{master_of(rc, key)[1]}"
            print(f"plain client, wrong master: {type(e).__name__} slot {moved_slot}, points at the owner: {is_owner}")
        print("cluster client (follows MOVED, caches the slot map):", rc.set(key, "ada"), rc.get(key))
        cart = f"{PREFIX}:{{user:1}}:cart"
        print("{user:1}:profile and {user:1}:cart share a slot:", rc.cluster_keyslot(key) == rc.cluster_keyslot(cart))
        owner = redis.Redis(port=master_of(rc, key)[1])
        print("MSET within one slot:", owner.mset({key: "ada", cart: "3 books"}))
        try:
            owner.mset({key: "ada", f"{PREFIX}:user:2:cart": "1 pen"})
        except redis.ResponseError as e:
            print("MSET across slots:", type(e).__name__, e)
        rc.close()


if __name__ == "__main__":
    main()
