"""``stock-manager replay``: the demo's processes (simulator, worker, beat, stream) on a
recorded day, then the backtest of the same window and the two sets of trades side by side.

Exits 0 only if the demo's checks pass (flat, ledger equal to the simulator) and the trades
agree within the tolerance (``docs/replay.md``); ``comparison.json`` holds the details.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from stock_manager import bootstrap
from stock_manager.backtest.engine import run_day
from stock_manager.backtest.fills import FillModel
from stock_manager.backtest.settings import build
from stock_manager.config import ConfigError, get_settings
from stock_manager.demo.plan import DemoOptions, ReplayPlan
from stock_manager.demo.runner import Demo, DemoFailed
from stock_manager.demo.verify import Verdict
from stock_manager.domain.clock import kst_date
from stock_manager.domain.krx import PriceLimits
from stock_manager.domain.orders import Fill, OrderPurpose
from stock_manager.domain.session import custom_session
from stock_manager.replay.compare import (
    Comparison,
    Context,
    Pacing,
    RoundTrip,
    TimeMap,
    Tolerance,
    compare,
)
from stock_manager.replay.day import ReplayDataError, ReplayDay, load_day
from stock_manager.replay.trips import backtest_trips, replay_trips
from stock_manager.sim.config import SimConfig


class Replay(Demo):
    """A demo on a recorded day (``options.replay``) that ends with the comparison."""

    def __init__(
        self, options: DemoOptions, console: Console, tolerance: Tolerance | None = None
    ) -> None:
        super().__init__(options, console)
        if options.replay is None:
            raise ValueError("a replay needs DemoOptions.replay")
        self.plan: ReplayPlan = options.replay
        self.tolerance = tolerance or Tolerance()
        self.comparison: Comparison | None = None

    def run(self) -> int:
        code = super().run()
        if code == 0 and (self.comparison is None or not self.comparison.within_tolerance):
            return 1
        return code

    def _wrap_up(self) -> Verdict:
        verdict = super()._wrap_up()
        self.comparison = self._compare()
        (self.out / "comparison.json").write_text(
            json.dumps(self.comparison.to_json(), indent=2, ensure_ascii=False)
        )
        print_comparison(self.comparison, self.console)
        with (self.out / "comparison.txt").open("w", encoding="utf-8") as text:
            print_comparison(self.comparison, Console(file=text, width=160, no_color=True))
        return verdict

    # -- the two sides -----------------------------------------------------------------------
    def _compare(self) -> Comparison:
        plan = self.plan
        try:
            day = load_day(plan.data, plan.day, plan.start, plan.end)
            backtest, fills = self._backtest(day)
        except (ConfigError, ReplayDataError) as exc:
            raise DemoFailed(f"the backtest of the day could not run: {exc}") from exc
        settings = get_settings()
        pacing = Pacing(
            plan.candle_seconds,
            settings.scan_interval,
            settings.price_check_interval,
            describe(fills),
        )
        trips, unfilled = self._replayed(day)
        context = Context(settings.max_positions, unfilled)
        return compare(backtest, trips, pacing, self.tolerance, context)

    def _backtest(self, day: ReplayDay) -> tuple[list[RoundTrip], FillModel]:
        """The backtest of the window with the workers' settings on the recorded clock and
        the simulator's starting cash."""
        cash = str(SimConfig().cash)
        settings, config = build(self.plan.recorded_settings() | {"INITIAL_CASH": cash})
        session = custom_session(day.opens_at, day.closes_at, settings.cutoffs())
        limits: dict[str, PriceLimits | int] = {s: day.base_price(s) for s in day.candles}
        result = run_day(config, session, day.candles, limits)
        return backtest_trips(result.trades), config.fills

    def _replayed(self, day: ReplayDay) -> tuple[list[RoundTrip], tuple[tuple[str, datetime], ...]]:
        """The replay's round trips from the ledger, and its entries that never filled."""
        if self.timeline is None:
            raise DemoFailed("the session timeline is unknown")
        c = bootstrap.container()
        today = kst_date(c.clock.now())
        with c.uow() as uow:
            orders = uow.orders.find(day=today)
            fills: list[tuple[Fill, OrderPurpose]] = [
                (fill, order.purpose)
                for order in orders
                for fill in uow.fills.for_order(order.id or 0)
            ]
            strategies = {t.symbol: t.strategy for t in uow.symbols.find()}
        clock = TimeMap(self.timeline.opens_at, day.opens_at, self.plan.candle_seconds)
        unfilled = tuple(
            (o.symbol, clock.recorded(_aware(o.created_at)))
            for o in orders
            if o.purpose is OrderPurpose.ENTRY
            and not o.filled_quantity
            and o.status.is_terminal
            and o.created_at is not None
        )
        return replay_trips(fills, strategies, clock), unfilled


def _aware(moment: datetime) -> datetime:
    """The ledger's timestamps are UTC; a driver that drops the zone gives them naive."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def describe(fills: FillModel) -> str:
    """The backtest's fill model in words, for the explanations."""
    return (
        f"limit buys at the ask (close + {fills.spread_ticks} tick) filled in the next candle "
        f"that touches them, market sells at the next open - {fills.slippage_ticks} tick, at "
        f"most {fills.volume_share * 100:g} % of a candle's volume"
    )


def print_comparison(c: Comparison, console: Console) -> None:
    table = Table(
        "symbol",
        "strategy",
        "backtest in → out",
        "replay in → out",
        "Δ in min",
        "Δ price %",
        "pnl bt / replay",
        "ok",
        title="replay beside the backtest (recorded clock)",
        title_justify="left",
    )
    for p in c.pairs:
        bt, rp = p.backtest, p.replay
        table.add_row(
            bt.symbol,
            bt.strategy,
            _leg(bt),
            _leg(rp),
            f"{p.entry_minutes:+.1f}",
            f"{p.entry_pct:+} / {p.exit_pct:+}",
            f"{bt.pnl:+,} / {rp.pnl:+,}",
            "yes" if p.within else "[red]no[/]",
        )
    console.print(table)
    for p in c.pairs:
        for note in p.explanations:
            console.print(f"  {p.backtest.symbol}: {note}")
    for u in c.unpaired:
        t = u.trade
        console.print(
            f"[yellow]{u.side} only[/] {t.symbol} {t.strategy} {_leg(t)}: {u.explanation}"
        )
    mark = "[bold green]within[/]" if c.within_tolerance else "[bold red]outside[/]"
    console.print(
        f"{mark} the tolerance; pnl backtest {c.backtest_pnl:+,} / replay {c.replay_pnl:+,} won"
    )


def _leg(t: RoundTrip) -> str:
    return f"{t.entered_at:%H:%M} {t.entry_price:,.0f} → {t.exited_at:%H:%M} {t.exit_price:,.0f}"
