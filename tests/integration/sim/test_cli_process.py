"""The simulator as a subprocess: fast start, listen lines on stdout, clean SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import click
import httpx

from stock_manager.cli.main import cli


def _read_line(process: subprocess.Popen[str], deadline: float) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, f"no output; stderr: {process.stderr.read() if process.stderr else ''}"
    assert time.monotonic() < deadline
    return line.strip()


def test_python_m_sim_prints_addresses_serves_and_stops_on_sigterm() -> None:
    started = time.monotonic()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stock_manager.sim",
            "--rest-port",
            "0",
            "--ws-port",
            "0",
            "--session-minutes",
            "1",
            "--symbols",
            "5",
            "--env",
            "paper",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        rest = _read_line(process, started + 5)
        ws = _read_line(process, started + 5)
        ready = time.monotonic() - started
        assert rest.startswith("REST http://127.0.0.1:") and ws.startswith("WS ws://127.0.0.1:")
        clock = httpx.get(rest.split()[1] + "/_sim/clock", timeout=5).json()
        assert clock["phase"] == "continuous"
        assert ready < 3.0  # includes the interpreter start-up; the server itself is far faster
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_stock_manager_sim_is_registered() -> None:
    ctx = click.Context(cli)
    command = cli.get_command(ctx, "sim")
    assert command is not None and command.name == "sim"
    names = {param.name for param in command.params}
    assert {
        "env",
        "rest_port",
        "ws_port",
        "session_minutes",
        "faults_spec",
        "app_key",
        "hts_id",
        "rate_limit",
        "cash",
        "symbols_file",
        "seed",
    } <= names


def test_bad_options_are_reported() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stock_manager.sim", "--faults", "explode=1"],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 2 and "explode" in result.stderr
