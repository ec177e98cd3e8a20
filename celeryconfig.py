"""Celery's configuration module (``app.config_from_object("celeryconfig")``).

Nothing is set here by hand: every value is built from the project's Settings, so the
environment (or ``.env``) is the one place to configure workers, beat and Flower.
"""

import sys

from stock_manager.adapters.files import private_dir
from stock_manager.celery_config import build_celery_config, task_modules
from stock_manager.config import get_settings

_settings = get_settings()
private_dir(_settings.data_dir)  # beat keeps its schedule there, whatever the backends
globals().update(build_celery_config(_settings))
imports = task_modules(sys.argv)  # this process's: a beat alone sends tasks by name
