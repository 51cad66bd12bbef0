"""Lazy loading under AsyncSession: the load would need I/O where nothing can await it, so it raises."""

import asyncio
import os
import sys

import psycopg
from sqlalchemy import ForeignKey, select
from sqlalchemy.exc import ProgrammingError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author: Mapped[User | None] = relationship()  # lazy="select", the default: loads on first access


async def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    engine = create_async_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))  # psycopg's async mode
    async with AsyncSession(engine) as session:
        post = await session.scalar(select(Post).where(Post.id == 1))
        assert post is not None
        try:
            print("lazy:", post.author.name if post.author else None)  # a query from a plain attribute access
        except StatementError as e:
            print(f"lazy: {type(e).__name__} caused by {type(e.orig).__name__}: {str(e.orig).split(';')[0]}")
    async with AsyncSession(engine) as session:  # the fix: load authors up front, with an await
        posts = await session.scalars(select(Post).options(selectinload(Post.author)).order_by(Post.id).limit(3))
        print("selectinload:", [(p.id, p.author.name if p.author else None) for p in posts])
    await engine.dispose()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except ProgrammingError as e:
        if not isinstance(e.orig, psycopg.errors.UndefinedTable):
            raise
        sys.exit(f"{e.orig.diag.message_primary}: run schema.sql (the page's first SQL block) first")
