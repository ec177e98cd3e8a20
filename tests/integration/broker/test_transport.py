"""No queue entry can kill a consumer: a real ``celery worker`` on the embedded Redis gets
entries that are not messages, keeps them aside, counts them and runs the next task."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from stock_manager.adapters.celery_transport import (
    DEAD_LETTERS,
    MALFORMED_COUNT,
    MalformedMessage,
    decode,
)
from stock_manager.adapters.embedded_redis import EmbeddedRedis
from tests.clock_shift import pythonpath
from tests.integration.broker.test_embedded_redis import wait_for

REPO = Path(__file__).resolve().parents[3]
CELERY = (sys.executable, "-m", "celery", "-A", "tests.integration.broker.stress_app")
GARBAGE = [b"not json at all", b"[1, 2]", b'"x"', b"\xff\xfe\x00", b"{}", b'{"properties": 1}']


@pytest.mark.parametrize("entry", GARBAGE)
def test_decode_refuses_what_is_not_a_message(entry: bytes) -> None:
    with pytest.raises(MalformedMessage):
        decode(entry)


def test_decode_accepts_a_message_object() -> None:
    assert decode(b'{"body": "", "properties": {"delivery_tag": "t"}}')["body"] == ""


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    server = EmbeddedRedis.for_data_dir(tmp_path / "data", idle_grace=1.0)
    yield server.home
    server.stop(timeout=15)


def start_worker(home: Path, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "STRESS_HOME": str(home), "PYTHONPATH": pythonpath(str(REPO))}
    with log.open("ab") as sink:
        return subprocess.Popen(
            [*CELERY, "worker", "-l", "info", "--without-mingle", "--without-gossip", *extra],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.mark.slow
def test_a_worker_survives_malformed_entries_and_keeps_them(home: Path, tmp_path: Path) -> None:
    server = EmbeddedRedis(home)
    client = server.client()
    for entry in GARBAGE:
        client.lpush("stress", entry)
    worker = start_worker(home, tmp_path / "worker.log", "-P", "solo")
    try:
        from tests.integration.broker.stress_app import app

        app.conf.broker_transport_options["embedded_redis_home"] = str(home)
        app.conf.broker_url = server.broker_url
        for number in range(10):
            app.send_task("stress.record", args=[number])
        wait_for(
            lambda: client.scard("stress:done") == 10 or worker.poll() is not None,
            timeout=60,
            what="the ten good tasks",
        )
        log = (tmp_path / "worker.log").read_text(errors="replace")
        assert worker.poll() is None, log[-3000:]
        assert client.scard("stress:done") == 10
        assert int(client.get(MALFORMED_COUNT)) == len(GARBAGE)
        assert sorted(client.lrange(DEAD_LETTERS, 0, -1)) == sorted(GARBAGE)
        assert "Unrecoverable error" not in log
    finally:
        worker.kill()
        worker.wait()
