"""SQLAlchemy 2: the same posts loaded lazily, with selectinload, with joinedload; lazy="raise" by default."""

import os
import sys
from typing import Any

import psycopg
from sqlalchemy import Engine, ForeignKey, create_engine, event, select
from sqlalchemy.exc import InvalidRequestError, ProgrammingError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    joinedload,
    lazyload,
    mapped_column,
    relationship,
    selectinload,
)
from sqlalchemy.sql.base import ExecutableOption

# --8<-- [start:base]
Row = tuple[int, str, str | None]


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
    author: Mapped[User | None] = relationship(lazy="raise")  # touching it unloaded is an error


def engine_for(url: str) -> tuple[Engine, list[str]]:
    """An engine plus the list of every statement it sends (SQLAlchemy's cursor-execute event)."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    return engine, statements


STRATEGIES: dict[str, tuple[ExecutableOption, ...]] = {
    "lazy": (lazyload(Post.author),),  # opt back in to loading on attribute access
    "selectinload": (selectinload(Post.author),),
    "joinedload": (joinedload(Post.author),),
    "raise": (),  # no option: the mapping's lazy="raise"
}


def load(engine: Engine, strategy: str, n: int) -> list[Row]:
    with Session(engine) as session:
        posts = session.scalars(select(Post).options(*STRATEGIES[strategy]).order_by(Post.id).limit(n)).all()
        return [(p.id, p.title, p.author.name if p.author else None) for p in posts]


def main() -> None:
    engine, statements = engine_for(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    for strategy in STRATEGIES:
        statements.clear()
        try:
            rows = load(engine, strategy, 10)
            print(f"{strategy:>12}: {len(statements):2} statements, {len(rows)} posts")
        except InvalidRequestError as e:  # lazy="raise": the N+1 is refused before it happens
            print(f"{strategy:>12}: {type(e).__name__} after {len(statements)} statement(s)")
    engine.dispose()


# --8<-- [end:base]


if __name__ == "__main__":
    try:
        main()
    except ProgrammingError as e:
        if not isinstance(e.orig, psycopg.errors.UndefinedTable):
            raise
        sys.exit(f"{e.orig.diag.message_primary}: run schema.sql (the page's first SQL block) first")
