"""The tests' clock: how far ahead of the wall clock the whole test run lives.

Two reasons to move it, both so that no test depends on the date or the time of day:

* ``TEST_CLOCK_SHIFT_DAYS=N`` runs N days ahead, so a fixture that will expire or a date the
  calendar will pass fails today, not on that date (CI runs the unit suite a year ahead).
* Tests trade a session that opens "a minute ago" and closes in up to half an hour (KST).
  Such a session cannot cross midnight (SESSION_CLOSE must follow SESSION_OPEN on one day),
  so a run that starts within ``QUIET_HOURS`` of KST midnight moves a few hours ahead, into
  the small hours, where a suite of any length stays clear of it. ``TEST_TIME_OF_DAY=HH:MM``
  starts the run at that KST time of day instead of now (before the move), to prove it.

The shift reaches every process a test starts: ``SHIFT_ENV`` carries it and ``HOOK_DIR``, put
first on ``PYTHONPATH`` (``pythonpath()``), holds a ``sitecustomize`` that applies it at start-up.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from stock_manager.domain.clock import KST

SHIFT_ENV = "TEST_CLOCK_SHIFT_SECONDS"
HOOK_DIR = Path(__file__).resolve().parent / "clock_hook"
QUIET_HOURS = (time(21, 0), time(1, 0))  # KST: a run starting in here moves ahead
AHEAD = timedelta(hours=4)  # from 21:00-01:00 to 01:00-05:00: hours from the next midnight


def run_shift(now: datetime, days: float = 0.0, time_of_day: str | None = None) -> timedelta:
    """How far ahead of ``now`` (aware) the run's clock is: ``days``, then ``time_of_day``
    (KST ``HH:MM``) if given, then ``AHEAD`` if that lands in ``QUIET_HOURS``."""
    shift = timedelta(days=days)
    moment = (now + shift).astimezone(KST)
    if time_of_day:
        target = datetime.combine(moment.date(), time.fromisoformat(time_of_day), tzinfo=KST)
        shift += target - moment
        moment = target
    late, early = QUIET_HOURS
    if moment.time() >= late or moment.time() < early:
        shift += AHEAD
    return shift


def pythonpath(*more: str) -> str:
    """``PYTHONPATH`` for a process a test starts: the clock hook first, then ``more``."""
    return os.pathsep.join([str(HOOK_DIR), *more])


def session_shift() -> timedelta:
    """This run's shift, from ``TEST_CLOCK_SHIFT_DAYS`` and ``TEST_TIME_OF_DAY``."""
    days = float(os.environ.get("TEST_CLOCK_SHIFT_DAYS", "0") or 0)
    return run_shift(datetime.now(UTC), days, os.environ.get("TEST_TIME_OF_DAY") or None)
