"""Beat's leadership lock and slot claim (``adapters/beat.py``) on fakeredis with Lua."""

from __future__ import annotations

import json
from typing import Any

import fakeredis
import pytest
import time_machine

from stock_manager.adapters.beat import CLAIM, LEADER_KEY, LeaderLock
from stock_manager.celery_config import build_celery_config
from stock_manager.config import load_settings


@pytest.fixture
def client() -> Any:
    return fakeredis.FakeRedis(decode_responses=True)


def test_one_lock_one_leader_and_it_extends(client: Any) -> None:
    a, b = LeaderLock(client, 10, "a"), LeaderLock(client, 10, "b")
    assert a.hold() is True
    assert b.hold() is False
    assert a.hold() is True  # extends, still ours
    assert a.holder() == "a" and b.holder() == "a"
    assert 9_000 < client.pttl(LEADER_KEY) <= 10_000


def test_a_standby_takes_over_once_the_leader_stops_extending(client: Any) -> None:
    a, b = LeaderLock(client, 10, "a"), LeaderLock(client, 10, "b")
    with time_machine.travel(0, tick=False) as clock:
        assert a.hold()
        clock.shift(9)
        assert not b.hold()
        clock.shift(2)  # 11 s without an extension: the lock expired
        assert b.hold()
        assert not a.hold()  # the old leader cannot extend what is no longer its own


def test_release_frees_the_lock_only_for_its_owner(client: Any) -> None:
    a, b = LeaderLock(client, 10, "a"), LeaderLock(client, 10, "b")
    a.hold()
    b.release()
    assert a.holder() == "a"
    a.release()
    assert b.hold()


def _claim(client: Any, owner: str, read: str, new: str) -> int:
    return int(client.eval(CLAIM, 3, "entry", "schedule", LEADER_KEY, owner, read, new, 42))


def test_a_slot_is_claimed_once_by_the_leader(client: Any) -> None:
    LeaderLock(client, 10, "a").hold()
    client.hset("entry", "meta", "m0")
    assert _claim(client, "b", "m0", "m1") == -1  # not the leader: nothing written
    assert client.hget("entry", "meta") == "m0"
    assert _claim(client, "a", "m0", "m1") == 1
    assert client.hget("entry", "meta") == "m1" and client.zscore("schedule", "entry") == 42
    assert _claim(client, "a", "m0", "m1b") == 0  # read before the claim: refused
    assert client.hget("entry", "meta") == "m1"


def test_a_never_run_entry_is_claimed_from_no_meta(client: Any) -> None:
    LeaderLock(client, 10, "a").hold()
    assert _claim(client, "a", "", json.dumps({"last_run_at": None})) == 1


def test_celery_config_hands_beat_to_the_leader_scheduler() -> None:
    config = build_celery_config(load_settings(beat_lock_timeout=15))
    assert config["beat_scheduler"] == "stock_manager.adapters.beat:LeaderScheduler"
    assert config["redbeat_lock_key"] is None  # redbeat's own lock stays off
    assert config["stock_manager_beat_lock_timeout"] == 15
    assert config["redbeat_redis_url"].startswith("unix://")  # the embedded default
    assert config["stock_manager_embedded_redis_home"].endswith("/redis")


def _scheduler(client: Any, sent: list[str]) -> Any:
    """A LeaderScheduler on fakeredis with one 2-second entry; sends are recorded."""
    from celery import Celery

    from stock_manager.adapters.beat import LeaderScheduler

    app = Celery("beat-test", broker="memory://", set_as_current=False)
    app.conf.update(
        timezone="Asia/Seoul",
        beat_schedule={"tick": {"task": "t.tick", "schedule": 2.0}},
        redbeat_redis_url="redis://fake",
        redbeat_redis_options={},
        redbeat_key_prefix="sm:beat:",
        redbeat_lock_key=None,
        stock_manager_beat_lock_timeout=10,
    )
    app.redbeat_redis = client
    scheduler = LeaderScheduler(app, max_interval=5)
    scheduler.send_task = lambda name, *a, **k: sent.append(name)  # type: ignore[method-assign]
    return scheduler


def test_only_the_leader_sends_and_a_standby_takes_over(client: Any) -> None:
    sent_a: list[str] = []
    sent_b: list[str] = []
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        a, b = _scheduler(client, sent_a), _scheduler(client, sent_b)
        a.tick()
        clock.shift(2.5)
        a.tick()
        b.tick()
        assert a.leading and not b.leading and sent_a == ["t.tick"] and sent_b == []
        clock.shift(11)  # a stopped ticking (frozen): its lock expired
        b.tick()
        assert b.leading and sent_b == ["t.tick"]  # the slot a missed, sent once by b
        a.tick()  # a wakes up: it stands by and sends nothing
        assert not a.leading and sent_a == ["t.tick"]


def test_a_slot_read_before_another_beat_claimed_it_is_not_sent(client: Any) -> None:
    from stock_manager.adapters.beat import SlotTaken

    sent: list[str] = []
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        a = _scheduler(client, sent)
        a.tick()
        clock.shift(2.5)
        entry = a.schedule["tick"]  # read now ...
        client.hset(entry.key, "meta", '{"last_run_at": null}')  # ... claimed elsewhere
        with pytest.raises(SlotTaken, match="another beat"):
            a.reserve(entry)
