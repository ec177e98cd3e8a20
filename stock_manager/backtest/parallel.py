"""Days of one backtest in parallel processes, with the same result as one process.

A day depends on the days before it only through its opening cash, and the cash enters a
decision only in the buying-power check. So every day runs at once from the initial cash;
then, in order, each result is shifted by the cash actually carried in, if no buying-power
decision of that day would have gone the other way (``DayResult.admits``); a day that would
have is run again here with the right cash. The result equals :func:`runner.run_days`
exactly (a test holds it to that).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date

from stock_manager.backtest.engine import BacktestConfig, run_day
from stock_manager.backtest.results import DayResult
from stock_manager.backtest.runner import SessionOf, day_limits
from stock_manager.backtest.settings import Sessions, build
from stock_manager.ports import CandleSource

_world: tuple[CandleSource, BacktestConfig, SessionOf] | None = None


def _open(opener: Callable[[], CandleSource], values: Mapping[str, str]) -> None:
    global _world
    settings, config = build(values)
    _world = (opener(), config, Sessions(settings))


def _one(days: Sequence[date], index: int, cash: int | None = None) -> DayResult:
    if _world is None:
        raise RuntimeError("no backtest world in this process (initializer not run)")
    source, config, session_of = _world
    day = days[index]
    candles = source.minute_candles(day)
    recorded = source.price_limits(day)
    missing = index > 0 and any(s not in recorded for s in candles)
    previous = source.minute_candles(days[index - 1]) if missing else {}
    limits = day_limits(candles, recorded, previous)
    return run_day(config, session_of(day), candles, limits, cash)


def run_days_parallel(
    opener: Callable[[], CandleSource],
    values: Mapping[str, str],
    days: Sequence[date],
    jobs: int,
) -> tuple[list[DayResult], int]:
    """The run of ``days`` with settings ``values``, ``jobs`` processes; also how many days
    had to be run again with their carried cash."""
    with ProcessPoolExecutor(jobs, initializer=_open, initargs=(opener, dict(values))) as pool:
        speculative = list(pool.map(_one, [days] * len(days), range(len(days)), chunksize=4))
    results: list[DayResult] = []
    cash, reruns = speculative[0].start_cash, 0
    for index, result in enumerate(speculative):
        delta = cash - result.start_cash
        if not result.admits(delta):
            if _world is None:
                _open(opener, values)
            result, delta, reruns = _one(days, index, cash), 0, reruns + 1
        results.append(result.shifted(delta) if delta else result)
        cash = results[-1].end_cash
    return results, reruns
