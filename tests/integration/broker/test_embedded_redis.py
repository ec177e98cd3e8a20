"""The embedded Redis: started by the first user, shared, supervised, stopped when unused,
private on disk. Real Valkey processes under the test's own folder."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stock_manager.adapters.embedded_redis import EmbeddedRedis

pytestmark = pytest.mark.slow


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis.for_data_dir(tmp_path / "data", idle_grace=1.0)
    yield server
    server.stop(timeout=15)


def supervisor_pid(server: EmbeddedRedis) -> int:
    return int((server.home / "supervisor.pid").read_text())


def user(server: EmbeddedRedis, then: str = "time.sleep(600)") -> subprocess.Popen[bytes]:
    """Another process that uses the server (ensure_running), then does ``then``."""
    code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from stock_manager.adapters.embedded_redis import EmbeddedRedis
        server = EmbeddedRedis(Path({str(server.home)!r}), {server.idle_grace!r})
        server.client().set("seen:" + sys.argv[1], 1)
        print("ready", flush=True)
        {then}
        """
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(os.getpid())], stdout=subprocess.PIPE)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == b"ready"
    return child


def test_the_first_user_starts_it_and_the_others_share_it(embedded: EmbeddedRedis) -> None:
    assert not embedded.ping()
    first = user(embedded)
    pid = supervisor_pid(embedded)
    second = user(embedded)
    assert supervisor_pid(embedded) == pid  # one server for both
    assert embedded.client().get(f"seen:{os.getpid()}") == b"1"
    for child in (first, second):
        child.kill()
        child.wait()


def test_it_stops_once_the_last_user_is_gone_even_if_killed(embedded: EmbeddedRedis) -> None:
    first, second = user(embedded), user(embedded)
    first.send_signal(signal.SIGKILL)  # the kernel drops its lock
    first.wait()
    time.sleep(embedded.idle_grace + 1.5)
    assert embedded.ping(), "stopped while a user was still there"
    second.send_signal(signal.SIGKILL)
    second.wait()
    wait_for(
        lambda: not embedded.ping() and not (embedded.home / "supervisor.pid").exists(),
        timeout=15,
        what="the server and its supervisor to stop when unused",
    )


def test_a_user_arriving_after_it_stopped_starts_it_again(embedded: EmbeddedRedis) -> None:
    user(embedded, then="pass").wait()
    wait_for(lambda: not embedded.ping(), timeout=15, what="the server to stop")
    embedded.ensure_running()
    assert embedded.client().get(f"seen:{os.getpid()}") == b"1"  # the AOF kept the data


def test_a_dead_server_is_restarted_with_its_data(embedded: EmbeddedRedis) -> None:
    client = embedded.client()
    client.set("fence", 41)
    client.incr("fence")
    pid = int(client.info("server")["process_id"])
    time.sleep(1.2)  # appendfsync everysec
    os.kill(pid, signal.SIGKILL)
    wait_for(
        lambda: embedded.ping() and int(client.info("server")["process_id"]) != pid,
        timeout=20,
        what="the supervisor to restart the server",
    )
    assert client.get("fence") == b"42"


def test_files_at_rest_are_private(embedded: EmbeddedRedis) -> None:
    embedded.client().set("token", "secret-token-value")
    time.sleep(1.2)
    home = embedded.home
    modes = {
        p.relative_to(home): stat.S_IMODE(p.stat().st_mode)
        for p in [home, *home.rglob("*")]
        if not p.is_socket()
    }
    loose = {str(path): oct(mode) for path, mode in modes.items() if mode & 0o077}
    assert loose == {}, loose
    aof = [p for p in embedded.home.rglob("*.aof*") if b"secret-token-value" in p.read_bytes()]
    assert aof, "the AOF should hold the data (so it must be private)"
    assert stat.S_IMODE(embedded.socket_path.stat().st_mode) & 0o077 == 0


def test_every_process_makes_the_data_dir_private(tmp_path: Path) -> None:
    from stock_manager.bootstrap import Container
    from stock_manager.config import load_settings

    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    settings = load_settings(data_dir=data)
    container = Container(settings)
    with container.engine.connect():
        pass
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "stock_manager.db").stat().st_mode) == 0o600
    container.dispose()


def test_a_deep_data_dir_gets_a_short_private_socket(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    server = EmbeddedRedis.for_data_dir(deep, idle_grace=1.0)
    assert len(str(server.socket_path)) <= 100
    assert server.socket_path.parent != server.home
    try:
        server.ensure_running()
        assert server.client().ping()
        assert stat.S_IMODE(server.socket_path.parent.stat().st_mode) == 0o700
    finally:
        assert server.stop(timeout=15)


def test_two_data_dirs_get_two_servers(tmp_path: Path) -> None:
    a = EmbeddedRedis.for_data_dir(tmp_path / "a", idle_grace=1.0)
    b = EmbeddedRedis.for_data_dir(tmp_path / "b", idle_grace=1.0)
    try:
        a.client().set("who", "a")
        b.client().set("who", "b")
        assert (a.client().get("who"), b.client().get("who")) == (b"a", b"b")
    finally:
        assert a.stop(timeout=15) and b.stop(timeout=15)
