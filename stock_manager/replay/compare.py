"""The replay's trades beside the backtest's for the same recorded day, each difference
explained, and whether they agree within the documented tolerance (``docs/replay.md``).

Both sides are reduced to :class:`RoundTrip` values on the recorded day's clock (the
replay's wall-clock times are mapped back through :class:`TimeMap`). Pairing is per symbol,
nearest entry first; two trades farther apart than ``Tolerance.pair_minutes`` are not a pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

LIQUIDATION = "liquidation"
PRICE_EXITS = frozenset({"stop_loss", "take_profit", "trailing_stop"})


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """One buy-then-sell of a symbol; times on the recorded day's clock (aware, KST),
    prices the average fill price in won, ``pnl`` in won after commission and tax."""

    symbol: str
    strategy: str
    quantity: int
    entered_at: datetime
    entry_price: Decimal
    exited_at: datetime
    exit_price: Decimal
    exit_reason: str  # an ExitReason value, or the order purpose ("exit", "liquidation")
    pnl: int

    def to_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "strategy": self.strategy,
            "quantity": self.quantity,
            "entered_at": self.entered_at.isoformat(),
            "entry_price": str(self.entry_price.quantize(Decimal("0.01"))),
            "exited_at": self.exited_at.isoformat(),
            "exit_price": str(self.exit_price.quantize(Decimal("0.01"))),
            "exit_reason": self.exit_reason,
            "pnl": self.pnl,
        }


@dataclass(frozen=True, slots=True)
class TimeMap:
    """Replay wall-clock time → recorded time: minute ``m`` of the recording starts
    ``m × candle_seconds`` after the replay's open."""

    replay_open: datetime
    recorded_open: datetime
    candle_seconds: float

    def recorded(self, moment: datetime) -> datetime:
        elapsed = (moment - self.replay_open).total_seconds() / self.candle_seconds
        return self.recorded_open + timedelta(minutes=elapsed)


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How far the replay may differ from the backtest and still agree with it.

    - every trade on either side has a partner on the same symbol with the same strategy
      (at most ``unpaired`` trades may lack one);
    - paired entries lie within ``entry_minutes`` recorded minutes of each other, and so do
      paired exits unless one of them is the pre-close liquidation;
    - paired average entry and exit prices differ by at most ``price_pct`` percent.
    """

    entry_minutes: float = 2.0
    price_pct: Decimal = Decimal("1.0")
    unpaired: int = 0
    pair_minutes: float = 10.0  # farther apart than this, two trades are not a pair

    def to_json(self) -> dict[str, Any]:
        return {
            "entry_minutes": self.entry_minutes,
            "price_pct": str(self.price_pct),
            "unpaired": self.unpaired,
            "pair_minutes": self.pair_minutes,
        }


@dataclass(frozen=True, slots=True)
class Pacing:
    """What explains timing differences: the replay's polling in real and recorded time,
    and the backtest's fill model in words."""

    candle_seconds: float
    scan_seconds: float
    price_check_seconds: float
    fill_model: str = "market orders at the next candle's open plus slippage"

    def minutes(self, seconds: float) -> float:
        return seconds / self.candle_seconds


@dataclass(slots=True)
class Pair:
    backtest: RoundTrip
    replay: RoundTrip
    entry_minutes: float  # replay minus backtest, recorded minutes
    exit_minutes: float
    entry_pct: Decimal  # replay vs backtest average entry price, percent
    exit_pct: Decimal
    within: bool = True
    explanations: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "backtest": self.backtest.to_json(),
            "replay": self.replay.to_json(),
            "entry_minutes": round(self.entry_minutes, 2),
            "exit_minutes": round(self.exit_minutes, 2),
            "entry_price_pct": str(self.entry_pct),
            "exit_price_pct": str(self.exit_pct),
            "within_tolerance": self.within,
            "explanations": self.explanations,
        }


@dataclass(slots=True)
class Unpaired:
    side: str  # "backtest" or "replay": which one traded
    trade: RoundTrip
    explanation: str

    def to_json(self) -> dict[str, Any]:
        return {"side": self.side, "trade": self.trade.to_json(), "explanation": self.explanation}


@dataclass(slots=True)
class Comparison:
    pairs: list[Pair]
    unpaired: list[Unpaired]
    tolerance: Tolerance
    backtest_pnl: int
    replay_pnl: int

    @property
    def within_tolerance(self) -> bool:
        return len(self.unpaired) <= self.tolerance.unpaired and all(p.within for p in self.pairs)

    def to_json(self) -> dict[str, Any]:
        return {
            "within_tolerance": self.within_tolerance,
            "tolerance": self.tolerance.to_json(),
            "backtest": {
                "trades": len(self.pairs) + self._count("backtest"),
                "pnl": self.backtest_pnl,
            },
            "replay": {"trades": len(self.pairs) + self._count("replay"), "pnl": self.replay_pnl},
            "pairs": [p.to_json() for p in self.pairs],
            "unpaired": [u.to_json() for u in self.unpaired],
        }

    def _count(self, side: str) -> int:
        return sum(1 for u in self.unpaired if u.side == side)


@dataclass(frozen=True, slots=True)
class Context:
    """What the replay knows beyond its trades, to explain a missing one: its open
    positions limit and the entry orders that ended without a fill (symbol, recorded time)."""

    max_positions: int | None = None
    unfilled_entries: tuple[tuple[str, datetime], ...] = ()


def compare(
    backtest: Sequence[RoundTrip],
    replay: Sequence[RoundTrip],
    pacing: Pacing,
    tolerance: Tolerance | None = None,
    context: Context | None = None,
) -> Comparison:
    """Pair the two sides' trades, explain every difference, judge the tolerance."""
    ctx = context or Context()
    tol = tolerance or Tolerance()
    left = sorted(replay, key=lambda t: t.entered_at)
    pairs: list[Pair] = []
    unpaired: list[Unpaired] = []
    for trade in sorted(backtest, key=lambda t: t.entered_at):
        partner = _nearest(trade, left, tol.pair_minutes)
        if partner is None:
            why = _why_missing("backtest", trade, replay, pacing, ctx)
            unpaired.append(Unpaired("backtest", trade, why))
            continue
        left.remove(partner)
        pairs.append(_pair(trade, partner, pacing, tol))
    for trade in left:
        why = _why_missing("replay", trade, backtest, pacing, ctx)
        unpaired.append(Unpaired("replay", trade, why))
    return Comparison(
        pairs, unpaired, tol, sum(t.pnl for t in backtest), sum(t.pnl for t in replay)
    )


def _minutes(a: datetime, b: datetime) -> float:
    return (a - b).total_seconds() / 60


def _pct(new: Decimal, old: Decimal) -> Decimal:
    return ((new - old) / old * 100).quantize(Decimal("0.01")) if old else Decimal(0)


def _nearest(trade: RoundTrip, others: list[RoundTrip], limit: float) -> RoundTrip | None:
    same = [o for o in others if o.symbol == trade.symbol]
    best = min(same, key=lambda o: abs(_minutes(o.entered_at, trade.entered_at)), default=None)
    if best is None or abs(_minutes(best.entered_at, trade.entered_at)) > limit:
        return None
    return best


def _pair(bt: RoundTrip, rp: RoundTrip, pacing: Pacing, tol: Tolerance) -> Pair:
    pair = Pair(
        bt,
        rp,
        _minutes(rp.entered_at, bt.entered_at),
        _minutes(rp.exited_at, bt.exited_at),
        _pct(rp.entry_price, bt.entry_price),
        _pct(rp.exit_price, bt.exit_price),
    )
    liquidated = LIQUIDATION in (bt.exit_reason, rp.exit_reason)
    checks = [
        (bt.strategy == rp.strategy, f"strategies differ: {bt.strategy} vs {rp.strategy}"),
        (abs(pair.entry_minutes) <= tol.entry_minutes, "entry outside the time tolerance"),
        (
            liquidated or abs(pair.exit_minutes) <= tol.entry_minutes,
            "exit outside the time tolerance",
        ),
        (abs(pair.entry_pct) <= tol.price_pct, "entry price outside the price tolerance"),
        (abs(pair.exit_pct) <= tol.price_pct, "exit price outside the price tolerance"),
    ]
    failed = [why for ok, why in checks if not ok]
    pair.within = not failed
    pair.explanations = [*_explain_entry(pair, pacing), *_explain_exit(pair, pacing), *failed]
    if bt.quantity != rp.quantity:
        pair.explanations.append(
            f"quantity {rp.quantity} vs {bt.quantity}: each side sizes the order from the "
            "price it saw (notional limit ÷ price) and the backtest caps a fill at its volume share"
        )
    return pair


def _explain_entry(p: Pair, pacing: Pacing) -> list[str]:
    scan = pacing.minutes(pacing.scan_seconds)
    notes = []
    if p.entry_minutes >= 0.5:
        notes.append(
            f"the replay entered {p.entry_minutes:.1f} recorded min later: its scan runs every "
            f"{pacing.scan_seconds:g} s ({scan:.1f} recorded min) and the order then goes worker "
            "→ KIS API → matching engine; the backtest decides at the candle's close and fills "
            f"with {pacing.fill_model}"
        )
    elif p.entry_minutes <= -0.5:
        notes.append(
            f"the replay entered {-p.entry_minutes:.1f} recorded min earlier: live judges the "
            "unfinished candle (its price inside the minute already met the rule); the "
            "backtest judges each candle at its close"
        )
    if p.entry_pct:
        notes.append(
            f"entry price {p.entry_pct:+}%: the backtest assumes {pacing.fill_model}; the "
            "simulator filled against its displayed book at the moment the order arrived, on "
            "the candle's open → low/high → close path"
        )
    return notes


def _explain_exit(p: Pair, pacing: Pacing) -> list[str]:
    bt, rp = p.backtest, p.replay
    notes = []
    if bt.exit_reason != rp.exit_reason and not (
        bt.exit_reason in PRICE_EXITS and rp.exit_reason == "exit"
    ):
        notes.append(f"exit: backtest {bt.exit_reason}, replay {rp.exit_reason}")
    check = pacing.minutes(pacing.price_check_seconds)
    if abs(p.exit_minutes) >= 0.5:
        notes.append(
            f"exit {p.exit_minutes:+.1f} recorded min: the replay's price check (every "
            f"{pacing.price_check_seconds:g} s = {check:.1f} recorded min) sells within the "
            "minute the price crosses; the backtest sees the cross at the candle's close and "
            "sells in the next candle"
        )
    if p.exit_pct:
        notes.append(
            f"exit price {p.exit_pct:+}%: the backtest sells at the next candle's open less "
            "its slippage; the replay sold into the simulator's book at the price of the "
            "moment, which inside a candle runs open → low/high → close"
        )
    return notes


def _why_missing(
    side: str,
    trade: RoundTrip,
    other: Sequence[RoundTrip],
    pacing: Pacing,
    ctx: Context,
) -> str:
    """Why the other side has no such trade, from what that side held or sent then."""
    absent = "replay" if side == "backtest" else "backtest"
    max_positions = ctx.max_positions
    if side == "backtest":
        for symbol, at in ctx.unfilled_entries:
            if symbol == trade.symbol and abs(_minutes(at, trade.entered_at)) <= 2:
                return (
                    f"the replay's limit buy at the quoted ask ({at:%H:%M:%S}) never filled: "
                    "the price moved away inside the minute before the order reached the "
                    "matching engine; the fill model fills a limit touched in the next candle"
                )
    holding = [
        t
        for t in other
        if t.entered_at <= trade.entered_at < t.exited_at and t.symbol != trade.symbol
    ]
    if max_positions is not None and len(holding) >= max_positions:
        return (
            f"the {absent} held {len(holding)} positions then (MAX_POSITIONS {max_positions}): "
            "an earlier difference in timing took the slot"
        )
    same = [t for t in other if t.symbol == trade.symbol]
    if any(t.entered_at <= trade.entered_at < t.exited_at for t in same):
        return f"the {absent} already held {trade.symbol} then (its earlier trade ran longer)"
    if side == "backtest":
        return (
            "the signal showed at a candle's close but did not last until the replay's next "
            f"scan ({pacing.scan_seconds:g} s = {pacing.minutes(pacing.scan_seconds):.1f} "
            "recorded min), or the unfinished candle the replay saw did not meet the rule"
        )
    return (
        "the replay judged an unfinished candle whose price or volume met the rule inside the "
        "minute; at the candle's close, where the backtest looks, it no longer did"
    )
