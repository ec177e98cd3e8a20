"""Celery's configuration module (``app.config_from_object("celeryconfig")``).

Nothing is set here by hand: every value is built from the project's Settings, so the
environment (or ``.env``) is the one place to configure workers, beat and Flower.
"""

from stock_manager.celery_config import build_celery_config
from stock_manager.config import get_settings

globals().update(build_celery_config(get_settings()))
