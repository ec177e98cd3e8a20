"""What the demo runs: the compressed session's timeline and every process's environment."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from stock_manager.domain.clock import KST

# Settings the demo controls; anything else from the caller's environment is left alone,
# but these are always set (or cleared) so the demo is the embedded default.
CLEARED = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "LOCK_BACKEND",
    "SLACK_BOT_TOKEN",
    "SLACK_CHANNEL",
    "KIS_APP_KEY",
    "KIS_APP_SECRET",
    "UNIVERSE",
)


AUCTION_SECONDS = 8.0  # the demo's closing call
START_MARGIN = timedelta(seconds=90)  # from now to the simulator's open, on a busy machine


def midnight_wait(now: datetime, minutes: float) -> float:
    """Seconds to wait before starting a ``minutes`` session at ``now`` so that it opens and
    closes (closing call included) on one KST day — a trading day cannot cross midnight
    (``SESSION_CLOSE`` must follow ``SESSION_OPEN``). Zero except just before midnight."""
    start = now.astimezone(KST)
    ends = start + START_MARGIN + timedelta(minutes=minutes, seconds=AUCTION_SECONDS)
    if ends.date() == start.date():
        return 0.0
    midnight = datetime.combine(ends.date(), time(0), tzinfo=KST)
    return (midnight - start).total_seconds() + 1.0


# The live settings' defaults for the leads and the holding limit, in recorded minutes.
LEAD_MINUTES = (20, 10, 1)
MAX_HOLDING_MINUTES = 120


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    """A recorded day's window ``[start, end)`` (``minutes`` long) played at
    ``candle_seconds`` real seconds per recorded minute, opening ``delay`` seconds after the
    simulator starts (so the workers are up for its first minute)."""

    data: Path
    day: date
    start: time
    end: time
    minutes: int
    candle_seconds: float
    delay: float = 10.0

    @property
    def speed(self) -> float:
        return 60.0 / self.candle_seconds

    def lead_minutes(self) -> tuple[int, int, int]:
        """Entry cutoff, liquidation start and hard cut before the window's end, recorded
        minutes: live's defaults, shrunk for a short window like the demo's (40 %, 28 %),
        the hard cut at least 3 real seconds."""
        entry, liquidation, hard = LEAD_MINUTES
        span = self.minutes
        hard = max(hard, math.ceil(3.0 / self.candle_seconds))
        return min(entry, round(span * 0.40)), min(liquidation, round(span * 0.28)), hard

    def recorded_settings(self) -> dict[str, str]:
        """The time settings on the recorded clock: what the backtest of the day uses."""
        entry, liquidation, hard = self.lead_minutes()
        return {
            "SESSION_OPEN": self.start.strftime("%H:%M:%S"),
            "SESSION_CLOSE": self.end.strftime("%H:%M:%S"),
            "ENTRY_CUTOFF_LEAD": f"PT{entry}M",
            "LIQUIDATION_LEAD": f"PT{liquidation}M",
            "HARD_CUT_LEAD": f"PT{hard}M",
            "MAX_HOLDING_MINUTES": str(MAX_HOLDING_MINUTES),
        }

    def live_settings(self) -> dict[str, str]:
        """The same settings on the replay's compressed clock. A scan looks twice per
        recorded minute, as live's 30-second scan does on minute candles (at least 1 s)."""
        cs = self.candle_seconds
        entry, liquidation, hard = (f"PT{minutes * cs:g}S" for minutes in self.lead_minutes())
        poll = f"{min(2.0, max(1.0, cs / 2)):g}"
        return {
            "ENTRY_CUTOFF_LEAD": entry,
            "LIQUIDATION_LEAD": liquidation,
            "HARD_CUT_LEAD": hard,
            # whole real minutes only: the holding limit is rounded up
            "MAX_HOLDING_MINUTES": str(max(1, math.ceil(MAX_HOLDING_MINUTES * cs / 60))),
            "SCAN_INTERVAL": f"{max(1.0, cs / 2):g}",
            "PRICE_CHECK_INTERVAL": poll,
            "ORDER_SYNC_INTERVAL": poll,
        }

    def sim_args(self) -> list[str]:
        return [
            "--replay-data",
            str(self.data),
            "--replay-date",
            self.day.isoformat(),
            "--replay-from",
            self.start.strftime("%H:%M"),
            "--replay-to",
            self.end.strftime("%H:%M"),
            "--session-delay",
            f"{self.delay:g}",
            "--candle-seconds",
            f"{self.candle_seconds:g}",
            "--tick-interval",
            f"{self.candle_seconds / 20:g}",  # 20 trades a minute: each held price trades
        ]


@dataclass(frozen=True, slots=True)
class DemoOptions:
    minutes: float = 3.0
    symbols: int = 30
    seed: int = 7
    out: Path = Path("demo-out")
    flower: bool = False
    replay: ReplayPlan | None = None  # a recorded day instead of the random walk


@dataclass(frozen=True, slots=True)
class Timeline:
    opens_at: datetime
    continuous_ends_at: datetime
    auction_ends_at: datetime

    @classmethod
    def from_clock(cls, clock: dict[str, Any]) -> Timeline:
        session = clock["session"]
        return cls(
            *(
                datetime.fromisoformat(session[k])
                for k in ("opens_at", "continuous_ends_at", "auction_ends_at")
            )
        )

    @property
    def seconds(self) -> float:
        return (self.continuous_ends_at - self.opens_at).total_seconds()

    def leads(self) -> tuple[int, int, int]:
        """Entry cutoff, liquidation start and hard cut as seconds before the close."""
        span = self.seconds
        return round(span * 0.40), round(span * 0.28), max(round(span * 0.05), 3)


def sim_args(o: DemoOptions) -> list[str]:
    if o.replay is not None:
        return [
            *SIM_COMMON,
            "--seed",
            str(o.seed),
            "--auction-seconds",
            f"{AUCTION_SECONDS:g}",
            *o.replay.sim_args(),
        ]
    candle = max(2.0, round(o.minutes * 60 / 40, 1))  # about 40 candles per session
    return [
        "-m",
        "stock_manager.sim",
        "--rest-port",
        "0",
        "--ws-port",
        "0",
        "--env",
        "live",
        "--session-minutes",
        f"{o.minutes:g}",
        "--symbols",
        str(o.symbols),
        "--seed",
        str(o.seed),
        "--candle-seconds",
        f"{candle:g}",
        "--tick-interval",
        "0.25",
        "--auction-seconds",
        f"{AUCTION_SECONDS:g}",
        # a VI's 2-minute auction, shortened for a demo day of minutes but long enough for
        # an exit to be sent into it (⚠ thresholds as KRX's)
        "--vi-seconds",
        "12",
        "--vi-extension-seconds",
        "3",
        "--history-candles",
        "60",
    ]


SIM_COMMON = ["-m", "stock_manager.sim", "--rest-port", "0", "--ws-port", "0", "--env", "live"]


def demo_env(
    data_dir: Path, rest_url: str, ws_url: str, t: Timeline, replay: ReplayPlan | None = None
) -> dict[str, str]:
    entry, liquidation, hard = t.leads()
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(
        {
            "DATA_DIR": str(data_dir),
            "AUTO_MIGRATE": "true",
            "LOG_LEVEL": "INFO",
            "KIS_ENV": "sim",
            "KIS_SIM_DIALECT": "live",
            "KIS_REST_URL": rest_url,
            "KIS_WS_URL": ws_url,
            "KIS_RATE_LIMIT": "15",
            "SESSION_OPEN": t.opens_at.strftime("%H:%M:%S"),
            "SESSION_CLOSE": t.continuous_ends_at.strftime("%H:%M:%S"),
            "ENTRY_CUTOFF_LEAD": f"PT{entry}S",
            "LIQUIDATION_LEAD": f"PT{liquidation}S",
            "HARD_CUT_LEAD": f"PT{hard}S",
            "SCAN_INTERVAL": "4",
            "PRICE_CHECK_INTERVAL": "2",
            "ORDER_SYNC_INTERVAL": "2",
            "LOCK_SWEEP_INTERVAL": "10",
            "RECONCILE_INTERVAL": "15",
            "DEAD_MAN_SECONDS": "20",
            "BEAT_LOCK_TIMEOUT": "10",  # below DEAD_MAN_SECONDS: a failover must not halt
            "STRATEGIES": "momentum_breakout,bollinger_reversion",
            "SCAN_ETFS": "true",  # the simulator's leveraged and inverse ETFs trade too
            "MOMENTUM_LOOKBACK": "10",
            "MOMENTUM_VOLUME_FACTOR": "1.2",
            "BOLLINGER_PERIOD": "15",
            "BOLLINGER_WIDTH": "1.8",
            "STOP_LOSS_PCT": "1.0",
            "TAKE_PROFIT_PCT": "1.5",
            "TRAILING_STOP_PCT": "0.7",
            "MAX_HOLDING_MINUTES": "1",
            "MAX_POSITIONS": "4",
            "MAX_NOTIONAL_PER_SYMBOL": "1500000",
            "MAX_TOTAL_NOTIONAL": "6000000",
            "LIQUIDATION_ESCALATE_SECONDS": "5",
            "LIQUIDATION_ROUND_SECONDS": "2",
            "WORKER_CONCURRENCY": "3",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if replay is not None:
        env.update(replay.live_settings())
    return env
