"""A superuser connection to a proof's own throwaway database, for what a page's role may not do
(pg_visibility, pg_walinspect)."""

from __future__ import annotations

import os
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

# Read when the proof module is imported, before its `env` fixture points DATABASE_URL at the space's role.
ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def admin_connect(dbname: str) -> psycopg.Connection[Any]:
    return psycopg.connect(make_conninfo(ADMIN_URL, dbname=dbname), autocommit=True)
