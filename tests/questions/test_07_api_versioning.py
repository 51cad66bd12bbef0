"""Proofs for docs/questions/07-api-versioning.md, against the page's own app served by uvicorn."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import ModuleType

import httpx
import pytest

from verify.helpers import load_snippet

api = load_snippet("07-api-versioning/versioned_api.py")
breaking: ModuleType = load_snippet("07-api-versioning/breaking_change.py")

IMF_FIXDATE = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT")
LINK = re.compile(r'<(?P<target>[^>]*)>\s*;\s*rel="(?P<rel>[^"]+)"')


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with api.serve(api.app) as base, httpx.Client(base_url=base, timeout=5) as c:
        yield c


def version_of(body: dict[str, object]) -> str:
    """Which representation a body is (v1: int id + name, v2: string id + split name, v3: data envelope)."""
    if "data" in body:
        return "3"
    user = body["users"][0]  # type: ignore[index]
    return "1" if isinstance(user["id"], int) and "name" in user else "2"


STRATEGIES = [
    ("path v1", "/api/v1/users", {}, "1"),
    ("path v2", "/api/v2/users", {}, "2"),
    ("path v3", "/api/v3/users", {}, "3"),
    ("query", "/api/users?version=1", {}, "1"),
    ("header", "/api/users", {"API-Version": "1"}, "1"),
    ("header beta", "/api/users", {"API-Version": "3"}, "3"),
    ("accept", "/api/users", {"Accept": "application/vnd.api.v1+json"}, "1"),
    (
        "accept q-values",
        "/api/users",
        {"Accept": "application/vnd.api.v1+json;q=0.4, application/vnd.api.v3+json"},
        "3",
    ),
    ("accept plain json", "/api/users", {"Accept": "application/json"}, "2"),
    ("subdomain", "/users", {"Host": "v1.api.example.com"}, "1"),
    ("subdomain with port", "/users", {"Host": "v3.api.example.com:8443"}, "3"),
    ("nothing asked", "/api/users", {}, "2"),
]


@pytest.mark.parametrize(("label", "path", "headers", "version"), STRATEGIES, ids=[s[0] for s in STRATEGIES])
def test_each_strategy_selects_the_version(
    client: httpx.Client, label: str, path: str, headers: dict[str, str], version: str
) -> None:
    r = client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["API-Version"] == version
    assert version_of(r.json()) == version
    by_accept = "vnd.api" in headers.get("Accept", "")
    assert r.headers["content-type"] == (f"application/vnd.api.v{version}+json" if by_accept else "application/json")


def test_missing_accept_header_gets_the_default_version(client: httpx.Client) -> None:
    request = client.build_request("GET", "/api/users")
    del request.headers["Accept"]  # httpx sends Accept: */* by default; this request has none at all
    assert "accept" not in request.headers
    r = client.send(request)
    assert r.status_code == 200
    assert r.headers["API-Version"] == api.DEFAULT == "2"
    assert version_of(r.json()) == "2"


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v9/users", {}),
        ("/api/users?version=9", {}),
        ("/api/users", {"API-Version": "9"}),
        ("/api/users", {"API-Version": "latest"}),
        ("/users", {"Host": "v9.api.example.com"}),
    ],
)
def test_unsupported_version_is_400_naming_the_supported_ones(
    client: httpx.Client, path: str, headers: dict[str, str]
) -> None:
    r = client.get(path, headers=headers)
    assert r.status_code == 400
    assert r.json()["error"].startswith("unsupported API version")
    assert r.json()["error"].endswith("supported: 1, 2, 3")


def test_conflicting_versions_are_refused_not_guessed(client: httpx.Client) -> None:
    r = client.get("/api/v1/users", headers={"API-Version": "2"})
    assert r.status_code == 400
    assert "conflicting" in r.json()["error"]
    assert client.get("/api/v1/users", headers={"API-Version": "1"}).status_code == 200  # agreeing is fine


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",
        "application/vnd.api.v9+json",
        "application/xml, text/plain",
        "application/vnd.api.v1+json;q=0, text/html",
        "application/json;q=0",
    ],
)
def test_unacceptable_media_type_is_406(client: httpx.Client, accept: str) -> None:
    r = client.get("/api/users", headers={"Accept": accept})
    assert r.status_code == 406
    assert "acceptable: application/json or application/vnd.api.v1+json" in r.json()["error"]


@pytest.mark.parametrize(
    ("path", "accept", "version"),
    [
        ("/api/users", "application/json;q=0, */*", "2"),
        ("/api/v1/users", "application/json;q=0, */*", "1"),
        ("/api/users", "application/json;q=0, application/*", "2"),
        ("/api/users", "application/json;q=0.5, application/*;q=0.9", "2"),
        ("/api/users", "application/vnd.api.v2+json;q=0, application/json;q=0, */*", "1"),
    ],
)
def test_a_refused_type_is_not_served_through_a_wildcard(
    client: httpx.Client, path: str, accept: str, version: str
) -> None:
    """RFC 9110 12.5.1: the most specific range that matches a type decides its q; a wildcard does not
    override application/json;q=0. So the answer is a vendor type the wildcard allows, never the refused one."""
    r = client.get(path, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == f"application/vnd.api.v{version}+json"
    assert r.headers["API-Version"] == version and version_of(r.json()) == version


def test_an_unknown_version_is_400_when_named_but_406_when_only_accepted(client: httpx.Client) -> None:
    """A version named in the path, query, header or host that does not exist makes the request wrong (400);
    Accept only lists what the client can take, so nothing there we can produce is 406 Not Acceptable."""
    assert client.get("/api/users", headers={"API-Version": "9"}).status_code == 400
    assert client.get("/api/v9/users").status_code == 400
    r = client.get("/api/users", headers={"Accept": "application/vnd.api.v9+json"})
    assert r.status_code == 406 and r.json()["error"].startswith("cannot produce")


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/users", {}),
        ("/api/users", {"Accept": "text/html"}),
        ("/api/v1/users", {}),
        ("/api/users", {"API-Version": "9"}),
        ("/api/v0/users", {}),
    ],
)
def test_responses_that_depend_on_headers_send_vary(client: httpx.Client, path: str, headers: dict[str, str]) -> None:
    vary = {v.strip().lower() for v in client.get(path, headers=headers).headers["Vary"].split(",")}
    assert {"accept", "api-version"} <= vary


def test_the_vary_header_matters_the_same_url_answers_differently(client: httpx.Client) -> None:
    a = client.get("/api/users", headers={"API-Version": "1"})
    b = client.get("/api/users", headers={"API-Version": "2"})
    assert a.url == b.url and a.json() != b.json()  # a cache keyed on the URL alone would mix them up


def links(header: str) -> dict[str, str]:
    return {m["rel"]: m["target"] for m in LINK.finditer(header)}


def test_deprecated_version_sends_standard_deprecation_sunset_and_link(client: httpx.Client) -> None:
    r = client.get("/api/v1/users")
    assert r.status_code == 200
    info = api.VERSIONS["1"]
    # RFC 9745: Deprecation is a structured-field Date, "@" + seconds since the epoch
    m = re.fullmatch(r"@(-?\d+)", r.headers["Deprecation"])
    assert m, r.headers["Deprecation"]
    deprecated = datetime.fromtimestamp(int(m[1]), UTC)
    assert deprecated == info.deprecated
    # RFC 8594: Sunset is an HTTP-date (IMF-fixdate), not earlier than the deprecation
    assert IMF_FIXDATE.fullmatch(r.headers["Sunset"]), r.headers["Sunset"]
    sunset = parsedate_to_datetime(r.headers["Sunset"])
    assert sunset == info.sunset and sunset >= deprecated
    # RFC 8288 Link with rel="successor-version" that really answers, with the successor version
    rels = links(r.headers["Link"])
    successor = client.get(rels["successor-version"])
    assert successor.status_code == 200 and successor.headers["API-Version"] == info.successor
    assert "Deprecation" not in successor.headers and "Sunset" not in successor.headers
    policy = client.get(rels["deprecation"])  # RFC 9745: information about the deprecation, for people
    assert policy.status_code == 200 and policy.headers["content-type"].startswith("text/html")
    assert 'rel="deprecation"; type="text/html"' in r.headers["Link"]
    assert "<li>v1: deprecated, deprecated since 2026-01-01, gone from 2027-06-30; move to v2</li>" in policy.text
    assert not [h for h in r.headers if h.lower().startswith("x-")]  # no X-API-Deprecated style headers


@pytest.mark.parametrize("version", ["2", "3"])
def test_current_and_beta_versions_send_no_deprecation_fields(client: httpx.Client, version: str) -> None:
    r = client.get(f"/api/v{version}/users")
    assert r.status_code == 200
    assert not {"deprecation", "sunset", "link"} & {h.lower() for h in r.headers}


def test_sunset_version_answers_410_pointing_at_its_successor(client: httpx.Client) -> None:
    for path, headers in [
        ("/api/v0/users", {}),
        ("/api/users", {"API-Version": "0"}),
        ("/api/users", {"Accept": "application/vnd.api.v0+json"}),
    ]:
        r = client.get(path, headers=headers)
        assert r.status_code == 410, (path, headers)
        assert r.json() == {"error": "API version 0 was sunset on 2026-01-01; use v2"}
        assert parsedate_to_datetime(r.headers["Sunset"]) == api.VERSIONS["0"].sunset
        assert links(r.headers["Link"])["successor-version"] == "/api/v2/users"


def test_lifecycle_table_is_served_from_the_single_source_of_truth(client: httpx.Client) -> None:
    served = client.get("/api/versions").json()
    assert served["default"] == api.DEFAULT
    assert {v: s["status"] for v, s in served["versions"].items()} == {v: i.status for v, i in api.VERSIONS.items()}
    assert {"current", "deprecated", "beta", "sunset"} == {i.status for i in api.VERSIONS.values()}
    assert served["versions"]["1"]["sunset"] == "2027-06-30"
    for version, info in api.VERSIONS.items():  # what each version's responses say agrees with the table
        r = client.get(f"/api/v{version}/users")
        assert r.status_code == (410 if info.status == "sunset" else 200)
        assert ("Sunset" in r.headers) == (info.sunset is not None)


def test_an_inconsistent_lifecycle_table_is_refused() -> None:
    v1 = api.VERSIONS["1"]
    with pytest.raises(ValueError, match="cannot be sunset before it is deprecated"):
        api.check_lifecycle({"1": replace(v1, sunset=datetime(2025, 1, 1, tzinfo=UTC))})
    with pytest.raises(ValueError, match="need both and a successor"):
        api.check_lifecycle({"1": replace(v1, successor=None)})
    api.check_lifecycle(api.VERSIONS)  # the shipped table passes


def test_adding_a_field_is_not_breaking_but_v2_is(client: httpx.Client) -> None:
    v1 = client.get("/api/v1/users").json()
    assert "email" in v1["users"][0]  # v1 gained a field in place...
    assert breaking.parse_users_v1(v1) == [breaking.UserV1(1, "Ada Lovelace"), breaking.UserV1(2, "Alan Turing")]
    v2 = client.get("/api/v2/users").json()  # ...while v2 renamed and retyped fields: a v1 client fails
    with pytest.raises(TypeError, match="id must be an int"):
        breaking.parse_users_v1(v2)
    with pytest.raises(KeyError, match="name"):
        breaking.parse_users_v1({"users": [{**v2["users"][0], "id": 1}]})
