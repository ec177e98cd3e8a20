"""``celery -A stock_manager flower`` with the project's settings.

Flower binds every interface by default. With ``FLOWER_BASIC_AUTH`` (from the environment or
``.env``) it gets basic auth; without it, it is kept on loopback, and an explicit address
beyond loopback is refused with a message naming the setting. Memory-safe defaults follow
``celery.md``: at most 20,000 tasks kept, offline workers purged after a minute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from stock_manager.config import ConfigError, Settings

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEFAULTS = {"FLOWER_MAX_TASKS": "20000", "FLOWER_PURGE_OFFLINE_WORKERS": "60"}


def is_flower(argv: Sequence[str]) -> bool:
    return "flower" in argv[1:]


def requested_address(argv: Sequence[str], environ: Mapping[str, str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg.startswith("--address="):
            return arg.split("=", 1)[1]
        if arg == "--address" and i + 1 < len(argv):
            return argv[i + 1]
    return environ.get("FLOWER_ADDRESS")


def flower_environment(
    argv: Sequence[str], environ: Mapping[str, str], settings: Settings
) -> dict[str, str]:
    """The ``FLOWER_*`` variables to set before Flower reads its options, or ConfigError."""
    changes = {k: v for k, v in DEFAULTS.items() if k not in environ}
    auth = settings.flower_basic_auth
    if auth is not None:
        if "FLOWER_BASIC_AUTH" not in environ:
            changes["FLOWER_BASIC_AUTH"] = auth.get_secret_value()
        return changes
    address = requested_address(argv, environ)
    if address is None:
        changes["FLOWER_ADDRESS"] = "127.0.0.1"  # no credentials: stay on this machine
    elif address not in LOOPBACK:
        raise ConfigError(
            f"FLOWER_BASIC_AUTH: required when Flower listens on {address or 'every interface'}"
            " (set user:password, or use --address=127.0.0.1)"
        )
    return changes
