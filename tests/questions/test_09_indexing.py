"""Q9 proofs: every claim of docs/questions/09-indexing.md, read from EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON).

The data set is the page's own (snippets/09-indexing/dataset.sql). Each test works on its own copy of
``users`` with only the indexes it creates, so no test's index or VACUUM changes another test's plan.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, LiteralString

import psycopg
import pytest
from psycopg import errors, sql

from tests.questions.superuser import admin_connect
from verify.helpers import ROOT, load_snippet

ex = load_snippet("09-indexing/explain.py")
freeze = load_snippet("09-indexing/copy_freeze.py")
search = load_snippet("09-indexing/search.py")
nl = load_snippet("09-indexing/nonleading.py")
pages = nl.index_pages  # pages a relation has
DATASET = (ROOT / "snippets/09-indexing/dataset.sql").read_text(encoding="utf-8")
PG18 = 180000  # skip scan arrives in PostgreSQL 18
ARGS = ("User50.Last50@Example.com", "active")  # an active user's email, and the partial index's predicate


@pytest.fixture(scope="module")
def conn(env: dict[str, str]) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as c:
        c.execute(DATASET)  # a file's text, no parameters
        yield c


def copy_users(conn: psycopg.Connection[Any], name: str) -> None:
    """A private copy of users (autovacuum off, visibility map unset, no index but the primary key)."""
    ident = sql.Identifier(name)
    conn.execute(sql.SQL("CREATE TABLE {} (LIKE users INCLUDING ALL) WITH (autovacuum_enabled = off)").format(ident))
    conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM users").format(ident))
    conn.execute(sql.SQL("ANALYZE {}").format(ident))


def scans(plan: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(node type, index name) of every scan node of a plan."""
    return [(n["Node Type"], n.get("Index Name")) for n in ex.nodes(plan) if "Scan" in n["Node Type"]]


def node(plan: dict[str, Any], node_type: str) -> dict[str, Any]:
    found = [n for n in ex.nodes(plan) if n["Node Type"] == node_type]
    assert len(found) == 1, f"expected one {node_type} in {scans(plan)}"
    only: dict[str, Any] = found[0]
    return only


def touched(scan: dict[str, Any]) -> int:
    """Pages (buffers) a node read, from cache or disk."""
    return int(scan["Shared Hit Blocks"] + scan["Shared Read Blocks"])


def uses(plan: dict[str, Any], index: str) -> bool:
    return any(name == index for _, name in scans(plan))


def explain_execute(conn: psycopg.Connection[Any], name: str, *args: str) -> dict[str, Any]:
    """The plan a prepared statement would run with these arguments (EXPLAIN EXECUTE, not executed)."""
    statement = sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE {}({})").format(
        sql.Identifier(name), sql.SQL(", ").join(sql.Literal(a) for a in args)
    )
    row = conn.execute(statement).fetchone()
    assert row is not None
    plan: dict[str, Any] = row[0][0]["Plan"]
    return plan


def count(conn: psycopg.Connection[Any], query: LiteralString, params: list[Any] | None = None) -> int:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture(scope="module")
def composite(conn: psycopg.Connection[Any]) -> str:
    copy_users(conn, "users_composite")
    conn.execute("CREATE INDEX users_composite_idx ON users_composite (last_name, first_name)")
    return "users_composite_idx"


def test_leading_prefix_is_served_by_the_composite_index(conn: psycopg.Connection[Any], composite: str) -> None:
    leading = ex.explain(conn, "SELECT id, email FROM users_composite WHERE last_name = %s", ["last42"])
    assert uses(leading, composite)
    assert leading["Actual Rows"] == 100
    both = ex.explain(
        conn, "SELECT id, email FROM users_composite WHERE last_name = %s AND first_name = %s", ["last42", "first42"]
    )
    scan = node(both, "Index Scan")
    assert scan["Index Name"] == composite
    assert "first_name" in scan["Index Cond"] and "last_name" in scan["Index Cond"]  # one descent, both columns
    assert scan["Actual Rows"] == 1


def test_first_name_alone_is_a_seq_scan_then_a_full_index_read(conn: psycopg.Connection[Any], composite: str) -> None:
    before = ex.explain(conn, "SELECT id, email FROM users_composite WHERE first_name = %s", ["first42"])
    assert scans(before) == [("Seq Scan", None)] and before["Actual Rows"] == 990
    conn.execute("VACUUM users_composite")
    counted = ex.explain(conn, "SELECT count(*) FROM users_composite WHERE first_name = %s", ["first42"])
    full = node(counted, "Index Only Scan")
    assert full["Index Name"] == composite and full["Heap Fetches"] == 0 and full["Actual Rows"] == 990
    assert touched(full) >= 0.9 * pages(conn, composite), "a non-leading column: a walk over the whole index"
    seek = ex.explain(conn, "SELECT count(*) FROM users_composite WHERE last_name = %s", ["last42"])
    assert touched(node(seek, "Index Only Scan")) < 10, "the leading column: a descent"


def test_non_leading_column_index_scan_reads_the_whole_index_before_pg18(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE INDEX users_status_signup_idx ON users (status, signup_at)")
    try:
        size = nl.index_pages(conn, "users_status_signup_idx")
        lead = nl.scan_node(conn, *nl.QUERIES["status and signup_at"])
        second = nl.scan_node(conn, *nl.QUERIES["signup_at only"])
        for scan in (lead, second):  # the plans look alike...
            assert scan["Node Type"] == "Index Scan" and scan["Index Name"] == "users_status_signup_idx"
            assert scan["Actual Rows"] == 12
        assert touched(lead) < 10  # ...but the leading column is a descent
        if conn.info.server_version >= PG18:  # skip scan: one descent per distinct status
            assert touched(second) < 0.1 * size
        else:  # and the second column alone reads every page of the index
            assert touched(second) >= 0.95 * size
    finally:
        conn.execute("DROP INDEX users_status_signup_idx")


@pytest.fixture(scope="module")
def partial(conn: psycopg.Connection[Any]) -> str:
    copy_users(conn, "users_partial")
    conn.execute("CREATE INDEX users_partial_active_idx ON users_partial (email) WHERE status = 'active'")
    return "users_partial_active_idx"


def test_partial_index_is_small_and_used_only_when_the_predicate_is_stated(
    conn: psycopg.Connection[Any], partial: str
) -> None:
    conn.execute("CREATE INDEX users_partial_everyone_idx ON users_partial (email)")
    assert pages(conn, partial) * 10 < pages(conn, "users_partial_everyone_idx")
    conn.execute("DROP INDEX users_partial_everyone_idx")
    email = "User50.Last50@Example.com"
    active = ex.explain(conn, "SELECT id FROM users_partial WHERE email = %s AND status = 'active'", [email])
    assert uses(active, partial) and active["Actual Rows"] == 1
    unstated = ex.explain(conn, "SELECT id FROM users_partial WHERE email = %s", [email])
    assert scans(unstated) == [("Seq Scan", None)] and unstated["Actual Rows"] == 1
    dormant = ex.explain(
        conn, "SELECT id FROM users_partial WHERE email = %s AND status = 'dormant'", ["User51.Last51@Example.com"]
    )
    assert not uses(dormant, partial)


def test_generic_plan_cannot_use_a_partial_index_behind_a_parameter(
    conn: psycopg.Connection[Any], partial: str
) -> None:
    conn.execute("PREPARE by_status(text, text) AS SELECT id FROM users_partial WHERE email = $1 AND status = $2")
    conn.execute("PREPARE active_only(text) AS SELECT id FROM users_partial WHERE email = $1 AND status = 'active'")
    try:
        custom = explain_execute(conn, "by_status", *ARGS)
        assert uses(custom, partial)
        conn.execute("SET plan_cache_mode = force_generic_plan")
        generic = explain_execute(conn, "by_status", *ARGS)
        assert not uses(generic, partial) and scans(generic) == [("Seq Scan", None)]
        literal = explain_execute(conn, "active_only", ARGS[0])
        assert uses(literal, partial)
    finally:
        conn.execute("RESET plan_cache_mode")
        conn.execute("DEALLOCATE ALL")


def test_psycopg_prepared_statement_keeps_custom_plans_in_auto_mode(
    env: dict[str, str], conn: psycopg.Connection[Any], partial: str
) -> None:
    query: LiteralString = "SELECT id FROM users_partial WHERE email = %s AND status = %s"
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as c:  # prepare_threshold is 5 by default
        for _ in range(20):  # psycopg prepares after 5; PostgreSQL weighs a generic plan after 5 more
            assert len(c.execute(query, ARGS).fetchall()) == 1
        name, generic, custom = c.execute(
            "SELECT name, generic_plans, custom_plans FROM pg_prepared_statements WHERE NOT from_sql"
        ).fetchall()[0]
        assert custom >= 10 and generic == 0, "auto mode kept planning with the real values"
        assert uses(explain_execute(c, name, *ARGS), partial)
        c.execute("SET plan_cache_mode = force_generic_plan")
        assert len(c.execute(query, ARGS).fetchall()) == 1
        generic_after = c.execute("SELECT generic_plans FROM pg_prepared_statements WHERE name = %s", [name]).fetchone()
        assert generic_after is not None and generic_after[0] >= 1
        assert not uses(explain_execute(c, name, *ARGS), partial)


def test_expression_index_serves_lower_email_and_enforces_case_insensitive_uniqueness(
    conn: psycopg.Connection[Any],
) -> None:
    copy_users(conn, "users_expr")
    query: LiteralString = "SELECT id FROM users_expr WHERE lower(email) = lower(%s)"
    without = ex.explain(conn, query, ["USER42.last42@Example.COM"])
    assert scans(without) == [("Seq Scan", None)] and without["Actual Rows"] == 1
    conn.execute("CREATE UNIQUE INDEX users_expr_lower_idx ON users_expr (lower(email))")
    stats: LiteralString = "SELECT count(*) FROM pg_stats WHERE tablename = 'users_expr_lower_idx'"
    assert count(conn, stats) == 0  # no statistics on lower(email) until ANALYZE
    conn.execute("ANALYZE users_expr")
    assert count(conn, stats) == 1
    with_index = ex.explain(conn, query, ["USER42.last42@Example.COM"])
    assert uses(with_index, "users_expr_lower_idx") and with_index["Actual Rows"] == 1
    before = count(conn, "SELECT count(*) FROM users_expr")
    with pytest.raises(errors.UniqueViolation):
        conn.execute(
            "INSERT INTO users_expr SELECT id + 1000000, first_name, last_name, upper(email), status, api_key,"
            " signup_at, home FROM users_expr WHERE id = 42"
        )
    assert count(conn, "SELECT count(*) FROM users_expr") == before
    assert count(conn, "SELECT count(*) FROM users_expr WHERE lower(email) = %s", ["user42.last42@example.com"]) == 1


def test_covering_index_heap_fetches_follow_the_visibility_map(conn: psycopg.Connection[Any]) -> None:
    copy_users(conn, "users_cover")
    conn.execute("CREATE UNIQUE INDEX users_cover_key ON users_cover (email) INCLUDE (first_name, last_name)")
    query: LiteralString = "SELECT first_name, last_name FROM users_cover WHERE email >= %s AND email < %s"
    args = ["User4200", "User4201"]
    before = node(ex.explain(conn, query, args), "Index Only Scan")
    assert before["Index Name"] == "users_cover_key"
    assert before["Actual Rows"] == 11 and before["Heap Fetches"] == 11, "every row checked in the heap"
    conn.execute("VACUUM users_cover")
    after = node(ex.explain(conn, query, args), "Index Only Scan")
    assert after["Actual Rows"] == 11 and after["Heap Fetches"] == 0
    conn.execute("UPDATE users_cover SET status = 'active' WHERE email = %s", ["User4200.Last200@Example.com"])
    written = node(ex.explain(conn, query, args), "Index Only Scan")
    assert written["Heap Fetches"] >= 1, "a write clears the page's all-visible bit"
    # INCLUDE columns are payload, not key: uniqueness is still on email alone
    with pytest.raises(errors.UniqueViolation):
        conn.execute(
            "INSERT INTO users_cover SELECT id + 1000000, 'someone', 'else', email, status, api_key, signup_at, home"
            " FROM users_cover WHERE id = 42"
        )
    assert count(conn, "SELECT count(*) FROM users_cover WHERE id = 42 AND first_name = 'first42'") == 1


def test_full_text_search_uses_gin_and_websearch_accepts_raw_input(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE INDEX IF NOT EXISTS posts_fts_idx ON posts USING gin (to_tsvector('english', body))")
    with pytest.raises(errors.SyntaxError) as raised:
        conn.execute(
            "SELECT count(*) FROM posts WHERE to_tsvector('english', body) @@ to_tsquery('english', %s)",
            ["database performance"],
        )
    assert raised.value.sqlstate == "42601"
    for raw in ["database performance", "C++ & (oops", "'\"", "!!!", "", "a:b*c <-> | &", '"unfinished phrase']:
        search.count(conn, raw)  # raises nothing
        search.search(conn, raw)
    bodies = [b for (b,) in conn.execute("SELECT body FROM posts")]
    expected = sum(1 for b in bodies if b.startswith("database performance"))
    assert search.count(conn, "database performance") == expected
    assert search.count(conn, '"database performance" -mysql') == sum(
        1 for b in bodies if b.startswith("database performance") and "mysql" not in b
    )
    plan = ex.explain(
        conn,
        "SELECT count(*) FROM posts WHERE to_tsvector('english', body) @@ websearch_to_tsquery('english', %s)",
        ["database performance"],
    )
    assert uses(plan, "posts_fts_idx")
    assert node(plan, "Bitmap Index Scan")["Actual Rows"] == expected


HOSTILE = ["word ", "-word ", "a or ", '"a b" ', "(", "&|!<-> ", "x:* "]  # each repeated up to the cap


def test_websearch_fails_on_a_long_input_and_search_caps_it(conn: psycopg.Connection[Any]) -> None:
    long_input = "word " * 50_000
    parsed = conn.execute("SELECT numnode(websearch_to_tsquery('english', %s))", [long_input]).fetchone()
    assert parsed == (99_999,)  # parsing alone succeeds: 50 000 words and 49 999 ANDs...
    with pytest.raises(errors.StatementTooComplex) as raised:  # ...but searching with them fails
        conn.execute(search.COUNT, {"q": long_input})
    assert raised.value.sqlstate == "54001" and "stack depth" in str(raised.value)
    with pytest.raises(ValueError, match="at most 200"):  # refused before any query is sent
        search.count(conn, long_input)
    with pytest.raises(ValueError):
        search.search(conn, long_input)
    assert search.MAX_SEARCH_CHARS == 200
    for unit in HOSTILE:  # the worst the cap lets through still parses and runs
        raw = (unit * search.MAX_SEARCH_CHARS)[: search.MAX_SEARCH_CHARS]
        assert search.count(conn, raw) >= 0
        search.search(conn, raw)
    assert search.count(conn, "database performance " * 9) > 0  # 189 characters


def test_copy_freeze_sets_the_visibility_map(env: dict[str, str], conn: psycopg.Connection[Any]) -> None:
    freeze.load(conn, "q9_frozen", True)
    freeze.load(conn, "q9_plain", False)
    with admin_connect(conn.info.dbname) as admin:
        admin.execute("CREATE EXTENSION IF NOT EXISTS pg_visibility")
        summary = {
            t: admin.execute(
                "SELECT all_visible, all_frozen FROM pg_visibility_map_summary(%s::regclass)", [t]
            ).fetchone()
            for t in ("q9_frozen", "q9_plain")
        }
    size = freeze.pages_with_rows(conn, "q9_frozen")  # from 16 on, the file may end in empty pages
    assert size > 100 and summary["q9_frozen"] == (size, size)  # every page all-visible and frozen, no VACUUM
    assert summary["q9_plain"] == (0, 0)
    frozen = node(
        ex.explain(conn, "SELECT id FROM q9_frozen WHERE id BETWEEN %s AND %s", [100, 200]), "Index Only Scan"
    )
    plain = node(ex.explain(conn, "SELECT id FROM q9_plain WHERE id BETWEEN %s AND %s", [100, 200]), "Index Only Scan")
    assert (frozen["Actual Rows"], frozen["Heap Fetches"]) == (101, 0)
    assert (plain["Actual Rows"], plain["Heap Fetches"]) == (101, 101)
    assert freeze.report(conn, "q9_frozen").endswith("101 rows, 0 heap fetches")
    with (  # q9_plain was not created in this transaction: FREEZE is refused
        pytest.raises(errors.ObjectNotInPrerequisiteState) as refused,
        conn.transaction(),
        conn.cursor().copy("COPY q9_plain FROM STDIN (FREEZE)") as rows,
    ):
        rows.write_row((freeze.ROWS + 1, "late@example.com"))
    assert refused.value.sqlstate == "55000"
    assert count(conn, "SELECT count(*) FROM q9_plain") == freeze.ROWS  # nothing loaded


def test_like_prefix_needs_c_collation_or_pattern_ops(conn: psycopg.Connection[Any]) -> None:
    copy_users(conn, "users_like")
    collation = conn.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()").fetchone()
    assert collation is not None
    byte_order = collation[0] in ("C", "POSIX")
    query: LiteralString = "SELECT id, email FROM users_like WHERE last_name LIKE %s"
    conn.execute("CREATE INDEX users_like_plain ON users_like (last_name)")
    conn.execute("ANALYZE users_like")
    expected = sum(1 for (name,) in conn.execute("SELECT last_name FROM users_like") if name.startswith("last42"))
    plain = ex.explain(conn, query, ["last42%"])
    assert plain["Actual Rows"] == expected == 1100  # last42 and last420 to last429
    assert uses(plain, "users_like_plain") == byte_order  # here (C.UTF-8): a Seq Scan
    if not byte_order:
        assert scans(plain) == [("Seq Scan", None)]
    conn.execute("DROP INDEX users_like_plain")
    variants: list[tuple[str, LiteralString]] = [
        ("users_like_c", 'last_name COLLATE "C"'),
        ("users_like_pattern", "last_name text_pattern_ops"),
    ]
    for index, definition in variants:
        conn.execute(sql.SQL("CREATE INDEX {} ON users_like ({})").format(sql.Identifier(index), sql.SQL(definition)))
        served = ex.explain(conn, query, ["last42%"])
        assert uses(served, index) and served["Actual Rows"] == expected, index
        if index == "users_like_pattern":  # serves LIKE and =, not the collation's < or ORDER BY
            assert uses(ex.explain(conn, "SELECT id FROM users_like WHERE last_name = %s", ["last42"]), index)
            ordered = ex.explain(conn, "SELECT id FROM users_like ORDER BY last_name LIMIT 5")
            below = ex.explain(conn, "SELECT id FROM users_like WHERE last_name < %s", ["last1"])
            assert not uses(ordered, index) and not uses(below, index)
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(index)))


def test_hash_index_changes_are_wal_logged(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE hashed (key text NOT NULL)")
    conn.execute("CREATE INDEX hashed_key_idx ON hashed USING hash (key)")
    node = conn.execute("SELECT pg_relation_filenode('hashed_key_idx')").fetchone()
    assert node is not None
    with admin_connect(conn.info.dbname) as admin:
        admin.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        # flushed positions: pg_walinspect reads only WAL already on disk; the autocommitted INSERT's
        # commit waits for its records to be flushed, so the second position is past all of them
        start = admin.execute("SELECT pg_current_wal_flush_lsn()").fetchone()
        conn.execute("INSERT INTO hashed SELECT md5(i::text) FROM generate_series(1, 100) AS i")
        end = admin.execute("SELECT pg_current_wal_flush_lsn()").fetchone()
        assert start and end
        managers = dict(
            admin.execute(
                "SELECT resource_manager, count(*) FROM pg_get_wal_records_info(%s, %s)"
                " WHERE block_ref LIKE %s GROUP BY 1",
                [start[0], end[0], f"%/{node[0]} %"],
            ).fetchall()
        )
    assert managers.get("Hash", 0) >= 100  # a WAL record per insert into the hash index: crash-safe, replicated


def test_each_index_type_on_a_query_it_serves(conn: psycopg.Connection[Any]) -> None:
    copy_users(conn, "users_types")
    conn.execute("CREATE INDEX users_types_signup_idx ON users_types (signup_at)")
    conn.execute("CREATE INDEX users_types_key_idx ON users_types USING hash (api_key)")
    conn.execute("CREATE INDEX users_types_home_idx ON users_types USING gist (home)")
    conn.execute("ANALYZE users_types")

    latest = node(ex.explain(conn, "SELECT id FROM users_types ORDER BY signup_at DESC LIMIT 5"), "Index Scan")
    assert latest["Index Name"] == "users_types_signup_idx" and latest["Scan Direction"] == "Backward"
    assert latest["Actual Rows"] == 5

    equal = ex.explain(conn, "SELECT id FROM users_types WHERE api_key = md5(%s)", ["key42"])
    assert uses(equal, "users_types_key_idx") and equal["Actual Rows"] == 1
    ranged = ex.explain(conn, "SELECT count(*) FROM users_types WHERE api_key < %s", ["0001"])
    assert not uses(ranged, "users_types_key_idx") and ("Seq Scan", None) in scans(ranged)
    conn.execute("CREATE INDEX users_types_key_btree ON users_types (api_key)")
    assert pages(conn, "users_types_key_idx") < pages(conn, "users_types_key_btree")  # 4-byte hashes, not keys
    conn.execute("DROP INDEX users_types_key_btree")

    knn: LiteralString = "SELECT id, home <-> point(100, 100) AS d FROM users_types ORDER BY d LIMIT 3"
    nearest = node(ex.explain(conn, knn), "Index Scan")
    assert nearest["Index Name"] == "users_types_home_idx" and "Order By" in nearest
    got = [d for (_, d) in conn.execute(knn)]
    brute = sorted(d for (d,) in conn.execute("SELECT home <-> point(100, 100) FROM users_types"))[:3]
    assert got == brute

    # GiST is not only geometry: a range column and its overlap operator
    conn.execute("ALTER TABLE users_types ADD COLUMN active tstzrange")
    conn.execute("UPDATE users_types SET active = tstzrange(signup_at, signup_at + interval '1 day')")
    conn.execute("CREATE INDEX users_types_active_idx ON users_types USING gist (active)")
    conn.execute("ANALYZE users_types")
    window = ["2024-03-01 00:00+00", "2024-03-01 00:10+00"]
    overlap = ex.explain(conn, "SELECT id FROM users_types WHERE active && tstzrange(%s, %s)", window)
    in_window = count(
        conn, "SELECT count(*) FROM users_types WHERE lower(active) < %s AND upper(active) > %s", [window[1], window[0]]
    )
    assert uses(overlap, "users_types_active_idx") and overlap["Actual Rows"] == in_window > 0


def test_the_diagram_names_what_each_type_serves() -> None:
    page = (ROOT / "docs/questions/09-indexing.md").read_text(encoding="utf-8")
    diagram = page.split("```mermaid", 1)[1].split("```", 1)[0]
    gist = next(line for line in diagram.splitlines() if "GiST" in line)
    assert all(word in gist for word in ("Geometry", "ranges", "nearest")), gist  # as the test above proves


def test_explain_analyze_executes_dml_unless_rolled_back(conn: psycopg.Connection[Any]) -> None:
    copy_users(conn, "users_dml")
    assert count(conn, "SELECT count(*) FROM users_dml WHERE last_name = 'last42'") == 100
    with conn.transaction(force_rollback=True):
        plan = ex.explain(conn, "DELETE FROM users_dml WHERE last_name = %s", ["last42"])
        assert plan["Node Type"] == "ModifyTable" and plan["Operation"] == "Delete"
        assert count(conn, "SELECT count(*) FROM users_dml WHERE last_name = 'last42'") == 0  # it ran
    assert count(conn, "SELECT count(*) FROM users_dml WHERE last_name = 'last42'") == 100  # rolled back
    ex.explain(conn, "DELETE FROM users_dml WHERE last_name = %s", ["last43"])  # no transaction: gone for good
    assert count(conn, "SELECT count(*) FROM users_dml WHERE last_name = 'last43'") == 0
    assert count(conn, "SELECT count(*) FROM users_dml") == 100000 - 100
