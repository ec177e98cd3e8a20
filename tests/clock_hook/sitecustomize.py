"""Started by every Python process a test starts (``tests.clock_shift.pythonpath()``):
live ``TEST_CLOCK_SHIFT_SECONDS`` ahead of the wall clock, as the test run does."""

import os

_SHIFT = float(os.environ.get("TEST_CLOCK_SHIFT_SECONDS", "0") or 0)

if _SHIFT:
    from datetime import UTC, datetime, timedelta

    import time_machine

    time_machine.travel(datetime.now(UTC) + timedelta(seconds=_SHIFT), tick=True).start()
