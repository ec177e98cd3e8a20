"""The project's Celery app for beat tests: every crontab entry fires on every day of the
week, so a test that puts slots a minute ahead does not depend on today being a weekday."""

from __future__ import annotations

from celery.schedules import crontab

from stock_manager.celery_app import app

for entry in app.conf.beat_schedule.values():
    schedule = entry["schedule"]
    if isinstance(schedule, crontab):
        entry["schedule"] = crontab(
            hour=sorted(schedule.hour)[0], minute=sorted(schedule.minute)[0], day_of_week="*"
        )
