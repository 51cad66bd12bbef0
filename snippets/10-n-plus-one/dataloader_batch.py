"""DataLoader: resolve each post's author separately, yet send one query per batch of keys."""

import asyncio
import os
import sys
from typing import Any, Self

import psycopg
from aiodataloader import DataLoader

# --8<-- [start:countingcursor]
Row = tuple[int, str, str | None]


class CountingCursor(psycopg.AsyncCursor[Any]):
    """Counts execute() only, all this program uses (strategies.py also counts executemany, copy, named cursors)."""

    async def execute(self, *args: Any, **kwargs: Any) -> Self:
        conn = self.connection
        assert isinstance(conn, CountingConnection)
        conn.statements += 1
        return await super().execute(*args, **kwargs)


class CountingConnection(psycopg.AsyncConnection[Any]):
    statements = 0


class AuthorLoader(DataLoader[int, str | None]):
    def __init__(self, conn: psycopg.AsyncConnection[Any], max_batch_size: int | None = None) -> None:
        super().__init__(max_batch_size=max_batch_size)
        self.conn = conn

    async def batch_load_fn(self, ids: list[int]) -> list[str | None]:
        cur = await self.conn.execute("SELECT id, name FROM users WHERE id = ANY(%s)", [list(ids)])
        names = dict(await cur.fetchall())
        return [names.get(i) for i in ids]  # one result per key, in the keys' order


async def posts_with_authors(conn: psycopg.AsyncConnection[Any], limit: int, batch: int | None = None) -> list[Row]:
    loader = AuthorLoader(conn, batch)
    cur = await conn.execute("SELECT id, title, author_id FROM posts ORDER BY id LIMIT %s", [limit])
    posts = await cur.fetchall()

    async def author(author_id: int | None) -> str | None:
        return None if author_id is None else await loader.load(author_id)  # load(None) raises TypeError

    names = await asyncio.gather(*(author(author_id) for _, _, author_id in posts))
    return [(post_id, title, name) for (post_id, title, _), name in zip(posts, names, strict=True)]


async def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    for limit, batch in [(10, None), (1000, None), (1000, 100)]:
        async with await CountingConnection.connect(url, autocommit=True, cursor_factory=CountingCursor) as conn:
            rows = await posts_with_authors(conn, limit, batch)
            authors = len({name for _, _, name in rows if name is not None})
            print(f"{len(rows)} posts, {authors} authors, max_batch_size={batch}: {conn.statements} statements")


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except psycopg.errors.UndefinedTable as e:  # schema.sql creates the tables
        sys.exit(f"{e.diag.message_primary}: run schema.sql (the page's first SQL block) first")
# --8<-- [end:countingcursor]
