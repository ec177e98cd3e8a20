"""What the demo runs: the compressed session's timeline and every process's environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True, slots=True)
class DemoOptions:
    minutes: float = 3.0
    symbols: int = 30
    seed: int = 7
    out: Path = Path("demo-out")
    flower: bool = False


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
        "8",
        # a VI's 2-minute auction, shortened for a demo day of minutes but long enough for
        # an exit to be sent into it (⚠ thresholds as KRX's)
        "--vi-seconds",
        "12",
        "--vi-extension-seconds",
        "3",
        "--history-candles",
        "60",
    ]


def demo_env(data_dir: Path, rest_url: str, ws_url: str, t: Timeline) -> dict[str, str]:
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
    return env
