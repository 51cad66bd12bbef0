"""A v1 client meets three payloads: an added field is harmless, a renamed or retyped one is not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class UserV1:
    id: int
    name: str


def parse_users_v1(payload: dict[str, Any]) -> list[UserV1]:
    """What a v1 client does: read the fields it knows, ignore the ones it does not (tolerant reader)."""
    users = []
    for u in payload["users"]:
        if not isinstance(u["id"], int):
            raise TypeError(f"id must be an int, got {u['id']!r}")
        users.append(UserV1(id=u["id"], name=u["name"]))
    return users


PAYLOADS: dict[str, dict[str, Any]] = {
    "v1 as first shipped": {"users": [{"id": 1, "name": "Ada Lovelace"}]},
    "v1 after adding email": {"users": [{"id": 1, "name": "Ada Lovelace", "email": "ada@example.com"}]},
    "v2 (name split, id a string)": {"users": [{"id": "1", "given_name": "Ada", "family_name": "Lovelace"}]},
}


def main() -> None:
    for label, payload in PAYLOADS.items():
        try:
            print(f"{label}: {parse_users_v1(payload)}")
        except (KeyError, TypeError) as e:
            print(f"{label}: the v1 client breaks with {type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
