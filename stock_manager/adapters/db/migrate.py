"""Run Alembic from code: ``stock-manager migrate`` and the demo use this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


def alembic_config(url: str) -> Config:
    """The project's ``alembic.ini`` (found next to the package), pointed at ``url``."""
    for parent in Path(__file__).resolve().parents:
        ini = parent / "alembic.ini"
        if ini.is_file() and (parent / "alembic" / "env.py").is_file():
            config = Config(str(ini))
            config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
            config.attributes["configure_logging"] = False
            return config
    raise FileNotFoundError("alembic.ini not found: run from a checkout of stock_manager")


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()
