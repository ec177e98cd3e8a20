"""Alembic environment: the URL comes from settings, the target from our models."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from stock_manager.adapters.db.engine import make_engine, normalize_url
from stock_manager.adapters.db.models import Base
from stock_manager.adapters.db.types import AwareDateTime
from stock_manager.config import get_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    override = context.get_x_argument(as_dictionary=True).get("url")
    return normalize_url(
        override
        or config.get_main_option("sqlalchemy.url")
        or get_settings().effective_database_url
    )


def _include_object(obj: object, name: str | None, type_: str, *_: object) -> bool:
    # Celery's own tables, if a database result backend shares the database, are not ours.
    return not (type_ == "table" and name is not None and name.startswith("celery_"))


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Migrations stay frozen: render our column types as plain SQLAlchemy types.
    if type_ == "type" and isinstance(obj, AwareDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_include_object,
        render_item=_render_item,
    )


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
