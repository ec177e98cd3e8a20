"""``domain/`` imports nothing of sqlalchemy, celery, httpx, redis, slack_sdk (ARCHITECTURE §2)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import stock_manager.domain as domain

FORBIDDEN = {
    "sqlalchemy",
    "celery",
    "kombu",
    "httpx",
    "redis",
    "slack_sdk",
    "aiohttp",
    "websockets",
    "pydantic",
    "pydantic_settings",
    "holidays",
}
DOMAIN = Path(domain.__file__).parent


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    offenders = {}
    for path in sorted(DOMAIN.rglob("*.py")):
        bad = {
            root
            for root in imported_roots(path)
            if root in FORBIDDEN
            or (root not in sys.stdlib_module_names and root != "stock_manager")
        }
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_domain_only_imports_domain_from_the_project() -> None:
    for path in DOMAIN.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("stock_manager"):
                assert node.module.startswith("stock_manager.domain"), (path.name, node.module)


def test_the_check_would_catch_an_offender(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlalchemy\nfrom celery import Celery\n")
    assert {"sqlalchemy", "celery"} <= imported_roots(bad)
