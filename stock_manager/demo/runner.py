"""The demo, start to finish: simulator, worker, beat and stream as processes, a live
dashboard, the close, the report, and the verdict. Ctrl-C stops everything it started."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.live import Live

from stock_manager import bootstrap
from stock_manager.adapters.db.migrate import upgrade
from stock_manager.adapters.embedded_redis import EmbeddedRedis
from stock_manager.adapters.report.charts import render as render_chart
from stock_manager.adapters.report.text import print_report
from stock_manager.config import get_settings
from stock_manager.demo import dashboard
from stock_manager.demo.plan import DemoOptions, Timeline, demo_env, midnight_wait, sim_args
from stock_manager.demo.processes import ProcessGroup
from stock_manager.demo.verify import Verdict, verify
from stock_manager.domain.clock import KST, kst_date
from stock_manager.services.exposure import read_book
from stock_manager.services.report import DailyReport, build_report
from stock_manager.services.settlement import settle_day
from stock_manager.services.status import snapshot
from stock_manager.services.sync import UNSETTLED


class DemoFailed(Exception):
    pass


Observer = Callable[["Demo", dashboard.Frame], None]


class Demo:
    """``extra_env`` overrides settings (e.g. PostgreSQL and Redis instead of the embedded
    default); each observer sees every frame of the session (tests use it to intervene)."""

    def __init__(
        self,
        options: DemoOptions,
        console: Console,
        extra_env: dict[str, str] | None = None,
        observers: Sequence[Observer] = (),
    ) -> None:
        self.o = options
        self.console = console
        self.extra_env = extra_env or {}
        self.observers = list(observers)
        self.verdict: Verdict | None = None
        self.out = options.out.resolve()
        self.group = ProcessGroup(self.out / "logs", dict(os.environ))
        self.rest = ""
        self.timeline: Timeline | None = None

    def run(self) -> int:
        saved = dict(os.environ)
        try:
            return self._run()
        finally:
            os.environ.clear()
            os.environ.update(saved)
            get_settings.cache_clear()
            bootstrap.use(None)

    def _run(self) -> int:
        try:
            self._prepare()
            self._start()
            self._watch()
            self._settle_ledger()
            verdict = self._wrap_up()
        except KeyboardInterrupt:
            self.console.print("[yellow]interrupted: stopping everything the demo started[/]")
            return 130
        except DemoFailed as exc:
            self.console.print(f"[red]demo failed:[/] {exc}")
            return 1
        finally:
            self.group.stop()
            self._stop_embedded_redis()
        return 0 if verdict.ok else 1

    # -- set-up ------------------------------------------------------------------------------
    def _prepare(self) -> None:
        self._stop_embedded_redis()  # a previous run's server must not outlive its folder
        for folder in ("data", "logs"):
            shutil.rmtree(self.out / folder, ignore_errors=True)
        (self.out / "data").mkdir(parents=True)

    def _stop_embedded_redis(self) -> None:
        """Every process the demo started is gone: stop its Redis now, not after the grace."""
        bootstrap.use(None)  # our own connections first: we are one of its users
        if not EmbeddedRedis.for_data_dir(self.out / "data").stop(timeout=30):
            self.console.print("[yellow]the embedded Redis did not stop within 30 s[/]")

    def _start(self) -> None:
        self.console.print(f"[bold]workspace[/] {self.out}")
        self._wait_for_a_day()
        sim = self.group.start("sim", *sim_args(self.o))
        self.rest, ws = _listen_urls(sim.log)
        clock = httpx.get(f"{self.rest}/_sim/clock", timeout=5).json()
        self.timeline = Timeline.from_clock(clock)
        env = demo_env(self.out / "data", self.rest, ws, self.timeline, self.o.replay)
        env |= self.extra_env
        self.group.env = env
        os.environ.clear()  # this process reads exactly the settings its children do
        os.environ.update(env)
        get_settings.cache_clear()
        bootstrap.use(None)
        upgrade(get_settings().effective_database_url)
        self.console.print(
            f"simulator {self.rest}  session {_hms(self.timeline.opens_at)}-"
            f"{_hms(self.timeline.continuous_ends_at)} KST, closing call to "
            f"{_hms(self.timeline.auction_ends_at)}"
        )
        celery = ["-m", "celery", "-A", "stock_manager"]
        data = self.out / "data"
        self.group.start(
            "worker",
            *celery,
            "worker",
            "-l",
            "info",
            "-E",
            "-n",
            "demo@%h",
            "--without-mingle",
            "--without-gossip",
            cwd=data,
        )
        self.group.start(
            "beat",
            *celery,
            "beat",
            "-l",
            "info",
            cwd=data,  # the schedule lives in Redis
        )
        self.group.start("stream", "-m", "stock_manager", "stream", cwd=data)
        if self.o.flower:
            self.group.start(
                "flower", *celery, "flower", "--address=127.0.0.1", "--port=5555", cwd=data
            )
            self.console.print("flower http://127.0.0.1:5555")

    # -- the session -------------------------------------------------------------------------
    def _wait_for_a_day(self) -> None:
        """Just before KST midnight, start the session just after it: one day holds it."""
        wait = midnight_wait(datetime.now(KST), self.o.minutes)
        if not wait:
            return
        self.console.print(
            f"a trading day cannot cross midnight KST: the {self.o.minutes:g}-minute session "
            f"starts after it, in {wait:.0f} s"
        )
        with self.console.status("waiting for 00:00 KST"):
            time.sleep(wait)

    def _watch(self) -> None:
        if self.timeline is None:
            raise DemoFailed("the session timeline is unknown")
        end = self.timeline.auction_ends_at + timedelta(seconds=3)
        interactive = self.console.is_terminal
        live = Live(console=self.console, refresh_per_second=2) if interactive else nullcontext()
        last_line = 0.0
        with live as view:
            while datetime.now(KST) < end:
                self._check_processes()
                frame = self._frame()
                for observe in self.observers:
                    observe(self, frame)
                if view is not None:
                    view.update(dashboard.render(frame))
                elif time.monotonic() - last_line >= 10:
                    self.console.print(dashboard.line(frame))
                    last_line = time.monotonic()
                time.sleep(1)

    def _frame(self) -> dashboard.Frame:
        c = bootstrap.container()
        clock = httpx.get(f"{self.rest}/_sim/clock", timeout=5).json()
        state = httpx.get(f"{self.rest}/_sim/state", timeout=5).json()
        with c.uow() as uow:
            runs = uow.task_runs.all()
        return dashboard.Frame(
            now=datetime.now(KST),
            clock=clock,
            status=snapshot(c.uow(), c.lease_lock, c.clock),
            book=read_book(c.uow(), c.clock.now()),
            runs=runs,
            sim_orders=sum(1 for o in state["orders"] if o["kind"] == "new"),
            processes={child.name: child.alive for child in self.group.children},
        )

    def _check_processes(self) -> None:
        dead = [c.name for c in self.group.dead()]
        if dead:
            raise DemoFailed(f"{', '.join(dead)} stopped early; see {self.out / 'logs'}")

    def _settle_ledger(self, timeout: float = 30.0) -> None:
        """After the close the exchange cancels what is left; wait until the ledger agrees."""
        c = bootstrap.container()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with c.uow() as uow:
                if not uow.orders.find(statuses=UNSETTLED):
                    return
            time.sleep(1)
        self.console.print("[yellow]orders still unsettled in the ledger after the close[/]")

    # -- the end of the day ------------------------------------------------------------------
    def _wrap_up(self) -> Verdict:
        c = bootstrap.container()
        ctx = c.context()
        day = kst_date(c.clock.now())
        settle_day(ctx, day)
        report = build_report(ctx.uow, day)
        state = httpx.get(f"{self.rest}/_sim/state", timeout=5).json()
        verdict = verify(ctx.uow, day, state)
        self.verdict = verdict
        self.group.stop()
        self.console.rule("daily summary")
        print_report(report, self.console)
        chart = render_chart(report, self.out / "report.png")
        self._write(report, verdict, state)
        self._print_verdict(verdict, chart)
        return verdict

    def _write(self, report: DailyReport, verdict: Verdict, state: dict[str, Any]) -> None:
        s = report.summary
        summary = {
            "trading_day": str(s.trading_day),
            "realized_pnl": s.realized_pnl,
            "unrealized_pnl": s.unrealized_pnl,
            "commission": s.commission,
            "tax": s.tax,
            "trades": s.trades,
            "wins": s.wins,
            "losses": s.losses,
            "win_rate": _text(s.win_rate),
            "profit_factor": _text(s.profit_factor),
            "max_drawdown": s.max_drawdown,
            "per_strategy": s.per_strategy,
            "trades_detail": [
                {
                    "symbol": t.symbol,
                    "quantity": t.quantity,
                    "buy_cost": t.buy_cost,
                    "sell_proceeds": t.sell_proceeds,
                    "costs": t.commission + t.tax,
                    "pnl": t.pnl,
                    "closed_at": t.closed_at.isoformat(),
                    "strategy": t.strategy,
                }
                for t in report.trades
            ],
        }
        if report.settlement is not None:
            summary["net_cash_flow"] = report.settlement.net_cash_flow
            summary["broker_cash_change"] = report.settlement.broker_cash_change
            summary["broker_costs"] = report.settlement.broker_costs
            summary["costs_difference"] = report.settlement.costs_difference
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        (self.out / "verification.json").write_text(
            json.dumps(
                {
                    "ok": verdict.ok,
                    "flat": verdict.flat,
                    "ledger_matches": verdict.ledger_matches,
                    "problems": verdict.problems,
                    "figures": verdict.figures,
                },
                indent=2,
                default=str,
            )
        )
        (self.out / "simulator-state.json").write_text(json.dumps(state, indent=2))

    def _print_verdict(self, verdict: Verdict, chart: Path) -> None:
        f = verdict.figures
        self.console.print(
            f"simulator orders {f.get('orders', 0)}, fills {f.get('fills', 0)}; "
            f"costs ledger {f.get('costs_ledger', 0):,} / broker {f.get('costs_broker', 0):,} won"
        )
        for problem in verdict.problems:
            self.console.print(f"[red]- {problem}[/]")
        mark = "[bold green]OK[/]" if verdict.ok else "[bold red]FAILED[/]"
        self.console.print(
            f"{mark}  flat: {verdict.flat}  ledger matches: {verdict.ledger_matches}"
        )
        self.console.print(
            f"report: {chart}, {self.out / 'summary.json'}, {self.out / 'verification.json'}"
        )


def _listen_urls(log: Path, timeout: float = 15.0) -> tuple[str, str]:
    """The simulator prints ``REST <url>`` and ``WS <url>`` first; wait for both."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        found = {k: v for k, _, v in (line.partition(" ") for line in lines) if k in ("REST", "WS")}
        if len(found) == 2:
            return found["REST"], found["WS"]
        time.sleep(0.1)
    raise DemoFailed(f"the simulator did not start; see {log}")


def _hms(moment: datetime) -> str:
    return moment.astimezone(KST).strftime("%H:%M:%S")


def _text(value: object) -> str | None:
    return None if value is None else str(value)
