"""stock_manager: automated intraday KRX trading on the KIS Open API, run by Celery.

``celery -A stock_manager ...`` finds the Celery app as ``stock_manager.app``. It is
loaded on first access, so the domain, the simulator and the CLI start without Celery.
"""

from __future__ import annotations

from typing import Any

__all__ = ["app"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in {"app", "celery"}:
        from stock_manager.celery_app import app

        return app
    raise AttributeError(f"module 'stock_manager' has no attribute {name!r}")
