"""The ``TaskQueue`` port over Celery: ``send_task`` by name, so the sender never imports the
task modules (the stream and the CLI do not), and the app is loaded only when first used."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class CeleryTaskQueue:
    def __init__(self, app: Any = None) -> None:
        self._app = app

    @property
    def app(self) -> Any:
        if self._app is None:
            from stock_manager.celery_app import app

            self._app = app
        return self._app

    def enqueue(self, task: str, args: Sequence[object] = (), countdown: float = 0.0) -> None:
        self.app.send_task(task, args=list(args), countdown=countdown if countdown > 0 else None)
