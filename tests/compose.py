"""``docker-compose.yml`` as data, for tests that check it and run its commands without
Docker: services, their commands and environments with compose's ``${VAR:-default}``
interpolation, and their healthchecks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

COMPOSE = Path(__file__).resolve().parents[1] / "docker-compose.yml"
APP_IMAGE = "stock-manager:latest"
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def load() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's substitution: ``$$``, ``${V}``, ``${V:-d}``, ``${V-d}``, ``${V:?m}``."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, default = match.group(1), match.group(2), match.group(3) or ""
        current = env.get(name)
        if op in (":-", ":?") and not current:
            if op == ":?":
                raise ValueError(f"{name}: {default}")
            return default
        if op == "-" and current is None:
            return default
        return current or ""

    return _VARIABLE.sub(one, value)


@dataclass
class Service:
    name: str
    spec: dict[str, Any]

    @property
    def is_app(self) -> bool:
        return self.spec.get("image") == APP_IMAGE

    @property
    def command(self) -> list[str]:
        return [str(part) for part in self.spec.get("command", [])]

    @property
    def replicas(self) -> int:
        return int(self.spec.get("deploy", {}).get("replicas", 1))

    def environment(self, dotenv: dict[str, str]) -> dict[str, str]:
        """The container's environment, interpolated from ``dotenv`` (a .env file)."""
        return {k: interpolate(str(v), dotenv) for k, v in self.spec.get("environment", {}).items()}

    @property
    def healthcheck(self) -> list[str] | None:
        check = self.spec.get("healthcheck")
        if not check or check.get("disable"):
            return None
        return [str(part) for part in check["test"]]


def services() -> dict[str, Service]:
    return {name: Service(name, spec) for name, spec in load()["services"].items()}
