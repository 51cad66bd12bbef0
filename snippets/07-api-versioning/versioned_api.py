"""One ASGI app, five ways to ask for an API version, one lifecycle table that drives them all."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route


# --8<-- [start:lifecycle]
@dataclass(frozen=True)
class Version:
    status: str  # "beta" | "current" | "deprecated" | "sunset"
    deprecated: datetime | None = None  # sent as Deprecation (RFC 9745)
    sunset: datetime | None = None  # sent as Sunset (RFC 8594); never before `deprecated`
    successor: str | None = None  # sent as Link: <...>; rel="successor-version"


VERSIONS = {  # the single source of truth: routing, headers and /api/versions all read it
    "0": Version("sunset", datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), "2"),
    "1": Version("deprecated", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 6, 30, tzinfo=UTC), "2"),
    "2": Version("current"),
    "3": Version("beta"),
}
DEFAULT = "2"  # what a request that names no version gets


def check_lifecycle(table: dict[str, Version]) -> None:
    for name, v in table.items():
        if (v.status in ("deprecated", "sunset")) != bool(v.deprecated and v.sunset and v.successor):
            raise ValueError(f"v{name}: only deprecated/sunset versions have dates, and they need both and a successor")
        if v.deprecated and v.sunset and v.sunset < v.deprecated:
            raise ValueError(f"v{name}: a version cannot be sunset before it is deprecated")


check_lifecycle(VERSIONS)  # refuse to start with an inconsistent table
# --8<-- [end:lifecycle]

USERS = [(1, "Ada Lovelace", "ada@example.com"), (2, "Alan Turing", "alan@example.com")]


# --8<-- [start:representations]
def render(version: str) -> dict[str, Any]:
    if version == "1":  # v1 gained "email" in place: adding a field breaks no client
        return {"users": [{"id": i, "name": n, "email": e} for i, n, e in USERS]}
    users = [  # v2 is a real breaking change: "name" split in two, "id" became a string
        {"id": str(i), "given_name": n.split()[0], "family_name": n.split()[1], "email": e} for i, n, e in USERS
    ]
    return {"users": users} if version == "2" else {"data": users, "next_cursor": None}  # v3 (beta): new envelope


# --8<-- [end:representations]


class VersionError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# --8<-- [start:negotiation]
SERVED = [v for v, info in VERSIONS.items() if info.status != "sunset"]
VND = re.compile(r"application/vnd\.api\.v(\w+)\+json")
HOST = re.compile(r"v(\w+)\.api\.example\.com(:\d+)?")


def accept_version(accept: str | None, named: str | None) -> str | None:
    """The version an Accept header picks (None: plain JSON, or no Accept). RFC 9110 12.5.1: each type we can
    produce gets the q of the MOST SPECIFIC range matching it, so 'application/json;q=0, */*' refuses JSON."""
    if not accept:
        return None  # no Accept header means "anything": the default version, not an error
    ranges: dict[str, tuple[float, int]] = {}  # media range -> (q, position in the header)
    for i, part in enumerate(accept.split(",")):
        media, *params = (p.strip().lower() for p in part.split(";"))
        q = next((p[2:] for p in params if p.startswith("q=")), "1")
        ranges.setdefault(media, (float(q) if re.fullmatch(r"(0(\.\d{0,3})?|1(\.0{0,3})?)", q) else 0.0, i))
    preferred = named or DEFAULT  # among equally acceptable vendor types, the version named elsewhere
    offers = ["application/json", f"application/vnd.api.v{preferred}+json"]
    others = sorted((v for v in VERSIONS if v != preferred), key=lambda v: VERSIONS[v].status == "sunset")
    offers += [f"application/vnd.api.v{v}+json" for v in others]  # a sunset one only if nothing else fits
    best: tuple[float, int, int] = (0.0, 0, 0)  # (q, specificity, -position) of the best offer so far
    chosen = None
    for offer in offers:  # in our order of preference: the first of equals wins
        matches = [(3 - n, r) for n, r in enumerate((offer, offer.split("/")[0] + "/*", "*/*")) if r in ranges]
        if matches:
            specificity, media = matches[0]  # the most specific range decides, whatever its q
            rank = (ranges[media][0], specificity, -ranges[media][1])
            if rank[0] > 0 and rank > best:
                best, chosen = rank, offer
    if chosen is None:
        raise VersionError(
            406,
            f"cannot produce {accept!r}; acceptable: application/json or "
            + ", ".join(f"application/vnd.api.v{v}+json" for v in SERVED),
        )
    return m[1] if (m := VND.fullmatch(chosen)) else None


def resolve(request: Request) -> tuple[str, bool]:
    """(version, chosen by Accept?) from path, Host, ?version=, API-Version and Accept."""
    asked = {
        "path": request.path_params.get("version"),
        "host": (m := HOST.fullmatch(request.headers.get("host", ""))) and m[1],
        "query": request.query_params.get("version"),
        "header": request.headers.get("api-version"),
    }
    found = {k: v for k, v in asked.items() if v}
    if len(set(found.values())) > 1:
        raise VersionError(400, f"conflicting API versions requested: {found}")
    named = next(iter(found.values()), None)
    if named is not None and named not in VERSIONS:  # a version that does not exist: the request is wrong
        raise VersionError(400, f"unsupported API version {named!r}; supported: {', '.join(SERVED)}")
    if (by_accept := accept_version(request.headers.get("accept"), named)) and named and by_accept != named:
        raise VersionError(400, f"conflicting API versions requested: {found | {'accept': by_accept}}")
    return by_accept or named or DEFAULT, by_accept is not None


# --8<-- [end:negotiation]


# --8<-- [start:handlers]
def lifecycle_headers(version: str) -> dict[str, str]:
    info, headers = VERSIONS[version], {"API-Version": version}
    if info.deprecated and info.sunset and info.successor:
        headers["Deprecation"] = f"@{int(info.deprecated.timestamp())}"
        headers["Sunset"] = format_datetime(info.sunset, usegmt=True)
        headers["Link"] = (  # RFC 9745: rel="deprecation" points at a policy written for people
            f'</api/v{info.successor}/users>; rel="successor-version", </api/deprecation>; rel="deprecation"; '
            'type="text/html"'
        )
    return headers


async def users(request: Request) -> JSONResponse:
    vary = {"Vary": "Accept, API-Version"}  # the same URL answers differently by these headers
    try:
        version, by_accept = resolve(request)
    except VersionError as e:
        return JSONResponse({"error": str(e)}, e.status, headers=vary)
    headers = {**vary, **lifecycle_headers(version)}
    info = VERSIONS[version]
    if info.status == "sunset":
        gone = f"API version {version} was sunset on {info.sunset:%Y-%m-%d}; use v{info.successor}"
        return JSONResponse({"error": gone}, 410, headers=headers)
    media = f"application/vnd.api.v{version}+json" if by_accept else "application/json"
    return JSONResponse(render(version), headers=headers, media_type=media)


async def versions(request: Request) -> JSONResponse:
    table = {
        v: {k: str(x.date()) if isinstance(x, datetime) else x for k, x in vars(i).items() if x}
        for v, i in VERSIONS.items()
    }
    return JSONResponse({"default": DEFAULT, "versions": table})


async def deprecation_policy(request: Request) -> HTMLResponse:
    """The page rel="deprecation" points at: the lifecycle table, for people."""
    items = []
    for v, i in VERSIONS.items():
        dates = f", deprecated since {i.deprecated:%Y-%m-%d}, gone from {i.sunset:%Y-%m-%d}" if i.sunset else ""
        items.append(f"<li>v{v}: {i.status}{dates}{f'; move to v{i.successor}' if i.successor else ''}</li>")
    return HTMLResponse(
        f"<!doctype html><title>API deprecation policy</title><h1>API versions</h1><ul>{''.join(items)}"
        "</ul><p>Deprecated versions keep working until their sunset, then answer 410 Gone.</p>"
    )


app = Starlette(
    routes=[
        Route("/api/v{version}/users", users),
        Route("/api/users", users),
        Route("/users", users),
        Route("/api/versions", versions),
        Route("/api/deprecation", deprecation_policy),
    ]
)
# --8<-- [end:handlers]


@contextmanager
def serve(asgi: Starlette) -> Iterator[str]:
    """Run the app with uvicorn on a free 127.0.0.1 port; stop it on exit."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # else keep-alive replies wait for delayed ACKs
    server = uvicorn.Server(uvicorn.Config(asgi, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


# --8<-- [start:demo]
CALLS: list[tuple[str, dict[str, str]]] = [
    ("/api/v1/users", {}),  # URL path
    ("/api/users?version=2", {}),  # query parameter
    ("/api/users", {"API-Version": "3"}),  # custom header
    ("/api/users", {"Accept": "application/vnd.api.v2+json"}),  # content negotiation
    ("/api/users", {"Accept": "application/json;q=0, */*"}),  # anything but plain JSON
    ("/users", {"Host": "v1.api.example.com"}),  # subdomain
    ("/api/users", {}),  # nothing asked: the default
    ("/api/users", {"API-Version": "9"}),
    ("/api/users", {"Accept": "text/html"}),
    ("/api/users?version=1", {"API-Version": "2"}),
    ("/api/v0/users", {}),
]


def main() -> None:
    with serve(app) as base, httpx.Client(base_url=base, timeout=5) as client:
        for path, headers in CALLS:
            r = client.get(path, headers=headers)
            body = r.json()
            shown = body.get("error") or json.dumps((body.get("users") or body.get("data"))[0])
            asked = f" {headers}" if headers else ""
            print(f"GET {path}{asked} -> {r.status_code} {r.headers['content-type']}\n    {shown}")
        r = client.get("/api/v1/users")  # a deprecated version says so, in standard headers
        for name in ("API-Version", "Deprecation", "Sunset", "Link", "Vary"):
            print(f"{name}: {r.headers[name]}")


if __name__ == "__main__":
    main()
# --8<-- [end:demo]
