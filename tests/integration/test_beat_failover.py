"""Beat with failover, with real ``celery beat`` processes (issue 14).

Two beats run; one schedules. SIGKILL the leader right after it sent the liquidation and
summary slots (crontab, both in the next minute): the standby takes over within
``BEAT_LOCK_TIMEOUT`` (plus its 1 s poll) and, although both slots are still inside beat's
5-minute catch-up window, never sends them again; the 2-second price checks go on.
On the embedded default, a leader frozen (SIGSTOP) past its lock wakes up as a standby and
sends nothing the new leader sent.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis

from stock_manager.domain.clock import KST
from tests.clock_shift import pythonpath
from tests.servers import RedisServer, wait_until

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CELERY = (sys.executable, "-m", "celery", "-A", "tests.integration.beat_app")
LOCK_TIMEOUT = 10.0
STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})")


class Beat:
    def __init__(self, name: str, env: dict[str, str], folder: Path) -> None:
        self.log = folder / f"{name}.log"
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                [*CELERY, "beat", "-l", "info"],
                env=env,
                cwd=REPO,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def text(self) -> str:
        return self.log.read_text(errors="replace")

    @property
    def pid(self) -> int:
        return self.process.pid

    def sends(self, entry: str) -> list[datetime]:
        return _stamps(self.text, f"Sending due task {entry} ")

    def led_at(self) -> list[datetime]:
        return _stamps(self.text, "leading the schedule")

    def stop(self) -> None:
        for sig in (signal.SIGCONT, signal.SIGTERM):
            if self.process.poll() is None:
                os.kill(self.pid, sig)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def _stamps(text: str, needle: str) -> list[datetime]:
    found = []
    for line in text.splitlines():
        match = STAMP.match(line)
        if match and needle in line:
            local = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")  # noqa: DTZ007
            found.append(local.astimezone())  # celery logs the machine's local time
    return found


def _env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        PYTHONPATH=pythonpath(str(REPO)),
        DATA_DIR=str(tmp_path / "data"),
        AUTO_MIGRATE="true",
        BEAT_LOCK_TIMEOUT=f"{LOCK_TIMEOUT:g}",
        **settings,
    )
    return env


def _slot_minutes() -> tuple[str, str]:
    """The next minute boundary at least 20 s away (KST), and one far from it."""
    now = datetime.now(KST)
    first = (now + timedelta(seconds=20 + 60)).replace(second=0, microsecond=0)
    return first.strftime("%H:%M"), (first + timedelta(hours=3)).strftime("%H:%M")


def _sent_both(beat: Beat) -> bool:
    return bool(beat.sends("liquidate-all") and beat.sends("daily-summary"))


def _queued_tasks(url: str, queue: str) -> list[str]:
    client = redis.Redis.from_url(url)
    return [json.loads(raw)["headers"]["task"] for raw in client.lrange(queue, 0, -1)]


def _no_double_sends(beats: list[Beat], entry: str, spacing: float) -> list[datetime]:
    sends = sorted(t for beat in beats for t in beat.sends(entry))
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(sends)]
    assert all(gap > spacing / 2 for gap in gaps), (entry, gaps)
    return sends


def test_killing_the_leader_hands_over_and_no_slot_fires_twice(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis").start()
    slot, far = _slot_minutes()
    env = _env(
        tmp_path,
        REDIS_URL=server.url,
        LIQUIDATION_TIME=slot,
        DAILY_SUMMARY_TIME=slot,
        MARKET_OPEN_TIME=far,
        MARKET_CLOSE_TIME=far,
        SESSION_OPEN="00:00",  # a custom day: the slots need not fit a 09:00-15:20 one
        SESSION_CLOSE="23:59",
    )
    beats = [Beat("beat-a", env, tmp_path)]
    try:
        wait_until(lambda: beats[0].led_at(), 90, "the first beat to lead")
        beats.append(Beat("beat-b", env, tmp_path))
        wait_until(lambda: "standing by" in beats[1].text, 90, "the second beat to stand by")
        wait_until(lambda: _sent_both(beats[0]), 150, f"the {slot} slots")
        time.sleep(1.0)
        os.kill(beats[0].pid, signal.SIGKILL)
        killed = datetime.now().astimezone()
        wait_until(lambda: beats[1].led_at(), 3 * LOCK_TIMEOUT, "the standby to take over")
        handover = (beats[1].led_at()[0] - killed).total_seconds()
        assert handover <= LOCK_TIMEOUT + 1.5, handover
        wait_until(lambda: len(beats[1].sends("check-prices")) >= 3, 30, "the new leader's sends")
        time.sleep(4)  # a little longer: a second send of a slot would show now

        assert [len(b.sends("liquidate-all")) for b in beats] == [1, 0]
        assert [len(b.sends("daily-summary")) for b in beats] == [1, 0]
        assert _queued_tasks(server.url, "liquidation") == ["tasks.liquidation.liquidate_all"]
        assert _queued_tasks(server.url, "trading").count("tasks.reports.daily_summary") == 1
        prices = _no_double_sends(beats, "check-prices", 2.0)
        after = [t for t in prices if t > killed]
        assert after and (after[0] - killed).total_seconds() <= LOCK_TIMEOUT + 4
        print(f"hand-over {handover:.1f}s after SIGKILL; lock timeout {LOCK_TIMEOUT:g}s")
    finally:
        for beat in beats:
            beat.stop()
        server.stop()


def test_a_frozen_leader_wakes_up_as_a_standby_on_the_embedded_default(tmp_path: Path) -> None:
    env = _env(tmp_path)
    beats = [Beat("beat-a", env, tmp_path)]
    try:
        wait_until(lambda: beats[0].led_at(), 90, "the first beat to lead")
        beats.append(Beat("beat-b", env, tmp_path))
        wait_until(lambda: "standing by" in beats[1].text, 90, "the second beat to stand by")
        os.kill(beats[0].pid, signal.SIGSTOP)
        wait_until(lambda: beats[1].led_at(), 3 * LOCK_TIMEOUT, "the standby to take over")
        os.kill(beats[0].pid, signal.SIGCONT)
        wait_until(lambda: "lost the lead" in beats[0].text, 30, "the old leader to stand by")
        time.sleep(4)
        assert beats[0].process.poll() is None and beats[1].process.poll() is None
        _no_double_sends(beats, "check-prices", 2.0)
        sends_after = beats[0].sends("check-prices")
        time.sleep(3)
        assert beats[0].sends("check-prices") == sends_after  # the old leader sends nothing
    finally:
        for beat in beats:
            beat.stop()


def test_a_leader_reinstalls_a_schedule_that_redis_lost(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis", persist=False).start()
    beats = [Beat("beat-a", _env(tmp_path, REDIS_URL=server.url), tmp_path)]
    try:
        wait_until(lambda: beats[0].sends("check-prices"), 90, "the first price check")
        server.restart(down=1)  # comes back empty: no schedule, no lock
        wait_until(lambda: "installing it again" in beats[0].text, 60, "the reinstall")
        before = len(beats[0].sends("check-prices"))
        wait_until(
            lambda: len(beats[0].sends("check-prices")) >= before + 2, 30, "price checks again"
        )
        assert beats[0].process.poll() is None
    finally:
        for beat in beats:
            beat.stop()
        server.stop()
