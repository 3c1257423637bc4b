"""Database engine and session factory (SQLite by default, any SQLAlchemy URL works)."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from miniflow_platform.config import Settings
from miniflow_platform.errors import Conflict


class Base(DeclarativeBase):
    """Declarative base of every platform table."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # stored naive, always UTC


def make_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    _private_sqlite_files(make_url(url).database)
    # The API threads and the scheduler thread share the file; WAL lets readers run
    # while the scheduler writes, and the busy timeout absorbs short write locks.
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine


def _private_sqlite_files(database: str | None) -> None:
    """Create the SQLite file (and fix its WAL/shm files) as 0600: it holds token hashes.

    SQLite creates the WAL and shm files with the database file's mode, so the database
    file's mode is what keeps them private too.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = os.path.abspath(database)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path, path + "-wal", path + "-shm", path + "-journal"):
        try:
            os.chmod(name, 0o600)
        except FileNotFoundError:
            pass


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def add_unique(session: Session, row: Base, conflict: str, *, commit: bool = True) -> None:
    """Add ``row`` and commit (or only flush, to go on in the same transaction); a unique
    key it breaks, e.g. a name a concurrent request took first, is rolled back and
    raised as ``Conflict(conflict)`` (409). Checking for the name before adding is not
    enough: two requests can both pass the check."""
    session.add(row)
    try:
        if commit:
            session.commit()
        else:
            session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(conflict) from None


# Columns older servers had and this one no longer declares: (table, column) ->
# (column that replaces it, SQL that fills it from the old one). The old notebook
# ``token`` held the access token in clear; it becomes its SHA-256 and is dropped.
RETIRED_COLUMNS: dict[tuple[str, str], tuple[str, str]] = {
    ("notebooks", "token"): ("token_hash", "sha256"),
}
# New columns whose value on old rows is another column's, not the default: a service
# updated by an older server is past generation 1, and new generations count from here.
FILLED_FROM: dict[tuple[str, str], str] = {("model_services", "last_generation"): "generation"}


class SchemaError(RuntimeError):
    """The database has a shape this server cannot upgrade (the message says why)."""


def add_missing_columns(engine: Engine) -> list[str]:
    """Upgrade tables an older server created to what this code declares.

    ``create_all`` creates missing tables only. New columns are added with their scalar
    default as the SQL default, so old rows read as new ones would; retired columns are
    carried over (``RETIRED_COLUMNS``) and dropped. A column this code does not know
    that would make inserts fail (NOT NULL, no default) raises ``SchemaError``. Returns
    the ``table.column`` names added or dropped.
    """
    inspector = inspect(engine)
    changed = []
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            if not inspector.has_table(table.name):
                continue
            existing = {c["name"]: c for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in existing:
                    continue
                kind = column.type.compile(dialect=engine.dialect)
                default = _sql_default(column)
                clause = f" DEFAULT {default}" if default is not None else ""
                conn.execute(
                    text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}{clause}')
                )
                source = FILLED_FROM.get((table.name, column.name))
                if source is not None and source in existing:
                    conn.execute(text(f'UPDATE "{table.name}" SET "{column.name}" = "{source}"'))
                changed.append(f"{table.name}.{column.name}")
            for name, info in existing.items():
                if name in table.columns:
                    continue
                retired = RETIRED_COLUMNS.get((table.name, name))
                if retired is not None:
                    _carry_over(conn, table.name, name, *retired)
                    conn.execute(text(f'ALTER TABLE "{table.name}" DROP COLUMN "{name}"'))
                    changed.append(f"-{table.name}.{name}")
                elif not info.get("nullable", True) and info.get("default") is None:
                    raise SchemaError(
                        f"the database has column {table.name}.{name} (NOT NULL, no default) "
                        f"that this version of the platform does not know, so it cannot add "
                        f"rows to {table.name}; it was written by a newer or unknown server: "
                        f"upgrade the platform or use another --data-dir/--db"
                    )
    return changed


def _sql_default(column: Any) -> str | None:
    """The column's Python default as an SQL literal, when it is a constant."""
    default = column.default
    if default is None or not default.is_scalar:
        if default is not None and getattr(default.arg, "__name__", "") in ("list", "dict"):
            return "'[]'" if default.arg.__name__ == "list" else "'{}'"
        return None
    value = default.arg
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"  # both SQLite (3.23+) and PostgreSQL
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return None


def _carry_over(conn: Any, table: str, old: str, new: str, how: str) -> None:
    if how != "sha256":
        raise SchemaError(f"unknown carry-over {how!r} for {table}.{old}")
    rows = conn.execute(text(f'SELECT id, "{old}" FROM "{table}"')).all()
    for row_id, value in rows:
        digest = hashlib.sha256(str(value).encode()).hexdigest() if value else ""
        conn.execute(text(f'UPDATE "{table}" SET "{new}" = :d WHERE id = :i'), {"d": digest, "i": row_id})  # fmt: skip
