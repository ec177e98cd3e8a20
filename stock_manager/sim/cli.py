"""``stock-manager sim`` / ``python -m stock_manager.sim``: run the KIS-compatible simulator.

Prints ``REST <url>`` and ``WS <url>`` on their own lines (flushed) once both servers
listen, then the credentials it accepts. SIGINT and SIGTERM stop it cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from datetime import date, time
from pathlib import Path
from typing import Any

import click

from stock_manager.config import SIM_APP_KEY, SIM_APP_SECRET
from stock_manager.sim.config import (
    DEFAULT_ACCOUNT,
    DEFAULT_HTS_ID,
    DEFAULT_REST_PORT,
    DEFAULT_WS_PORT,
    SimConfig,
    SimConfigError,
)
from stock_manager.sim.faults import FaultSpecError, parse_faults
from stock_manager.sim.universe import UniverseError
from stock_manager.sim.vi import ViSettings


def _clock_time(ctx: click.Context, param: click.Parameter, value: str | None) -> time | None:
    if value is None:
        return None
    try:
        return time.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"expected HH:MM or HH:MM:SS, got {value!r}") from exc


def _options(fn: Any) -> Any:
    options = [
        click.option("--host", default="127.0.0.1", show_default=True),
        click.option("--rest-port", type=int, default=DEFAULT_REST_PORT, show_default=True),
        click.option("--ws-port", type=int, default=DEFAULT_WS_PORT, show_default=True),
        click.option(
            "--env",
            "env",
            type=click.Choice(["paper", "live"]),
            default="live",
            show_default=True,
            help="The KIS dialect: tr_ids, limits, page sizes.",
        ),
        click.option("--symbols", type=int, default=30, show_default=True),
        click.option("--symbols-file", type=click.Path(exists=True, path_type=Path)),
        click.option("--seed", type=int, default=42, show_default=True),
        click.option("--session-minutes", type=float, help="Open a session now for N minutes."),
        click.option(
            "--session-delay",
            type=float,
            default=0.0,
            show_default=True,
            help="Seconds until a --session-minutes session opens.",
        ),
        click.option("--open", "session_open", callback=_clock_time, help="HH:MM[:SS] KST."),
        click.option(
            "--close",
            "session_close",
            callback=_clock_time,
            help="End of continuous trading, HH:MM[:SS] KST.",
        ),
        click.option("--auction-end", callback=_clock_time, help="End of the closing call."),
        click.option("--auction-seconds", type=float, help="Closing call length."),
        click.option("--candle-seconds", type=float, default=60.0, show_default=True),
        click.option("--tick-interval", type=float, default=0.5, show_default=True),
        click.option("--history-candles", type=int, default=60, show_default=True),
        click.option("--history-days", type=int, default=120, show_default=True),
        click.option("--rate-limit", type=float, help="Requests/s per app key; 0 lifts it."),
        click.option("--cash", type=int, default=10_000_000, show_default=True),
        click.option("--faults", "faults_spec", help="Preset, JSON or key=value,... ."),
        click.option("--app-key", default=SIM_APP_KEY, show_default=True),
        click.option("--app-secret", default=SIM_APP_SECRET),
        click.option("--account", default=DEFAULT_ACCOUNT, show_default=True),
        click.option("--hts-id", default=DEFAULT_HTS_ID, show_default=True),
        click.option("--token-issue-interval", type=float, default=60.0, show_default=True),
        click.option("--token-reuse-window", type=float, default=21_600.0, show_default=True),
        click.option("--ping-interval", type=float, default=30.0, show_default=True),
        click.option("--ws-sessions-per-key", type=int, default=1, show_default=True),
        click.option("--lenient", is_flag=True, help="Accept lowercase/non-string POST bodies."),
        click.option(
            "--ws-layout",
            type=click.Choice(["extended", "classic"]),
            default="extended",
            show_default=True,
            help="Real-time records: extended 47/63 fields (after-market era) or classic 46/59.",
        ),
        click.option(
            "--first-page-cont",
            type=click.Choice(["F", "M"]),
            default="F",
            show_default=True,
            help="tr_cont of a first page that has more pages after it.",
        ),
        click.option(
            "--vi-seconds",
            type=float,
            default=120.0,
            show_default=True,
            help="Length of a VI's single-price auction.",
        ),
        click.option(
            "--vi-extension-seconds",
            type=float,
            default=30.0,
            show_default=True,
            help="A VI auction ends at random up to this much later.",
        ),
        click.option(
            "--dynamic-vi-pct",
            type=float,
            default=6.0,
            show_default=True,
            help="A trade this far from the last one sets off a dynamic VI (⚠).",
        ),
        click.option(
            "--static-vi-pct",
            type=float,
            default=10.0,
            show_default=True,
            help="A trade this far from the last single price sets off a static VI.",
        ),
        click.option("--no-vi", is_flag=True, help="Model no volatility interruptions."),
        click.option(
            "--replay-data",
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            help="Replay a recorded day from this market-data directory (docs/market-data.md).",
        ),
        click.option("--replay-date", help="The recorded day to replay (YYYY-MM-DD)."),
        click.option("--replay-from", callback=_clock_time, help="Window start, HH:MM KST."),
        click.option("--replay-to", callback=_clock_time, help="Window end (exclusive), HH:MM."),
        click.option(
            "--accept-inqr-dvsn-02",
            is_flag=True,
            help="inquire-balance: accept INQR_DVSN=02 (refused with OPSQ2001 by default).",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _replay(options: dict[str, Any]) -> None:
    """Load the recorded day into ``options["replay"]``; its session is the window, each
    recorded minute one candle (unless the session is given explicitly)."""
    root = options.pop("replay_data", None)
    day, start, end = (options.pop(k, None) for k in ("replay_date", "replay_from", "replay_to"))
    if root is None:
        return
    if day is None:
        raise SimConfigError("--replay-data needs --replay-date")
    from stock_manager.replay.day import ReplayDataError, load_day

    try:
        recorded = load_day(root, date.fromisoformat(day), start, end)
    except (ReplayDataError, ValueError) as exc:
        raise SimConfigError(str(exc)) from exc
    options["replay"] = recorded.recorded()
    if options.get("session_open") is None and options.get("session_minutes") is None:
        options["session_minutes"] = recorded.minutes * options["candle_seconds"] / 60
    options["history_candles"] = 0


def build_config(options: dict[str, Any]) -> SimConfig:
    _replay(options)
    faults = parse_faults(options.pop("faults_spec", None))
    lenient = options.pop("lenient", False)
    ping = options.pop("ping_interval")
    sessions = options.pop("ws_sessions_per_key")
    vi = ViSettings(
        enabled=not options.pop("no_vi"),
        dynamic_pct=options.pop("dynamic_vi_pct"),
        static_pct=options.pop("static_vi_pct"),
        seconds=options.pop("vi_seconds"),
        extension_seconds=options.pop("vi_extension_seconds"),
    )
    return SimConfig(
        vi=vi,
        faults=faults,
        strict=not lenient,
        ws_ping_interval=ping,
        ws_sessions_per_key=sessions,
        **options,
    )


def banner(config: SimConfig, rest_url: str, ws_url: str, phase: str, window: str) -> list[str]:
    return [
        f"REST {rest_url}",
        f"WS {ws_url}",
        f"# KIS simulator: {config.env} dialect, seed {config.seed}, session {window} ({phase})",
        f"# app key     {config.app_key}",
        f"# app secret  {config.app_secret}",
        f"# account     {config.account}",
        f"# HTS ID      {config.hts_id}",
        f"# admin       {rest_url}/_sim/state",
    ]


async def serve(config: SimConfig) -> None:
    from stock_manager.sim.server import SimApp

    app = SimApp(config)
    await app.start()
    session = app.exchange.session
    window = (
        f"{session.opens_at:%H:%M:%S}-{session.continuous_ends_at:%H:%M:%S}"
        f" closing call to {session.auction_ends_at:%H:%M:%S} KST"
    )
    for line in banner(config, app.rest_url, app.ws_url, app.exchange.phase().value, window):
        print(line, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await app.stop()


@click.command("sim")
@_options
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def sim(verbose: bool, **options: Any) -> None:
    """Run the KIS-compatible simulator (REST + WebSocket) on loopback."""
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        config = build_config(options)
    except (SimConfigError, FaultSpecError, UniverseError) as exc:
        raise click.BadParameter(str(exc)) from exc
    try:
        asyncio.run(serve(config))
    except OSError as exc:
        click.secho(f"cannot listen: {exc}", fg="red", err=True)
        sys.exit(1)
