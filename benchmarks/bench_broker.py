"""The embedded broker under stress: producers, consumers SIGKILLed at random, bad entries.

4 producer processes send N ``stress.record`` tasks between them (numbers 0..N-1) through
the embedded Valkey with our hardened transport, while 3 ``celery worker`` consumers (2
prefork children each, late acks, prefetch 1) run them; every few seconds one consumer's
whole process group is SIGKILLed and a new one started, and a saboteur pushes entries that
are not messages into the queue. At the end every number must have run at least once (a
killed consumer's messages come back after the visibility timeout), no consumer may have
exited except by our kills, and every bad entry must be on the dead-letter list.

The same scenario runs a second time, side by side, on kombu's own Redis transport (the
control: no bad entries, since any would kill a consumer): what it loses is what the
delivery journal saves.

    .venv/bin/python -m benchmarks.bench_broker [--messages 20000] [--kills-every 4]
        [--no-control]

Prints a table and writes ``benchmarks/results/broker.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import print_load
from stock_manager.adapters.celery_journal import JOURNAL
from stock_manager.adapters.celery_transport import DEAD_LETTERS, MALFORMED_COUNT
from stock_manager.adapters.embedded_redis import EmbeddedRedis

REPO = Path(__file__).resolve().parent.parent
APP = "tests.integration.broker.stress_app"
CELERY = (sys.executable, "-m", "celery", "-A", APP)
QUIET = ("--without-mingle", "--without-gossip", "--without-heartbeat")
VISIBILITY = 6.0  # the stress app's visibility timeout (STRESS_VISIBILITY)
BAD_ENTRIES = (b"not json", b"[1, 2]", b'"x"', b"\xff\xfe", b"{}")


@dataclass
class StressResult:
    messages: int
    producers: int
    consumers: int
    kills: int = 0
    unexpected_exits: list[str] = field(default_factory=list)
    bad_entries: int = 0
    set_aside: int = 0
    done: int = 0
    runs: int = 0
    seconds: float = 0.0

    @property
    def lost(self) -> int:
        return self.messages - self.done

    @property
    def ok(self) -> bool:
        return self.lost == 0 and not self.unexpected_exits and self.set_aside == self.bad_entries


PRODUCER = """
import sys
from tests.integration.broker.stress_app import app
first, count = int(sys.argv[1]), int(sys.argv[2])
with app.producer_or_acquire() as producer:
    for number in range(first, first + count):
        app.send_task("stress.record", args=[number], producer=producer)
"""


class Stress:
    def __init__(
        self, work: Path, messages: int, producers: int, consumers: int, plain: bool = False
    ) -> None:
        self.server = EmbeddedRedis.for_data_dir(work / "data", idle_grace=2.0)
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "STRESS_HOME": str(self.server.home), "PYTHONPATH": str(REPO)}
        self.env["STRESS_PLAIN"] = "1" if plain else "0"
        self.plain = plain
        self.result = StressResult(messages, producers, consumers)
        self.consumers: list[subprocess.Popen[bytes]] = []
        self.started = 0
        self.quiet_since: float | None = None

    def consumer(self) -> subprocess.Popen[bytes]:
        self.started += 1
        with (self.logs / f"consumer-{self.started}.log").open("wb") as sink:
            return subprocess.Popen(
                [
                    *CELERY,
                    "worker",
                    "-l",
                    "warning",
                    "-c",
                    "2",
                    "-n",
                    f"c{self.started}@%h",
                    *QUIET,
                ],
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def producers(self) -> list[subprocess.Popen[bytes]]:
        share, n = divmod(self.result.messages, self.result.producers)
        started, first = [], 0
        for index in range(self.result.producers):
            count = share + (1 if index < n else 0)
            started.append(self._producer(first, count))
            first += count
        return started

    def _producer(self, first: int, count: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-c", PRODUCER, str(first), str(count)], env=self.env
        )

    def kill_one(self, rng: random.Random) -> None:
        victim = rng.randrange(len(self.consumers))
        process = self.consumers[victim]
        if process.poll() is not None:
            self.result.unexpected_exits.append(
                f"consumer pid {process.pid} rc {process.returncode}"
            )
        else:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            self.result.kills += 1
        self.consumers[victim] = self.consumer()

    def sabotage(self, client: object, rng: random.Random) -> None:
        client.lpush("stress", rng.choice(BAD_ENTRIES))  # type: ignore[attr-defined]
        self.result.bad_entries += 1

    def run(self, kills_every: float, timeout: float, seed: int) -> StressResult:
        rng = random.Random(seed)
        self.server.ensure_running()
        client = self.server.client()
        client.delete("stress", "stress:done", "stress:runs", DEAD_LETTERS, MALFORMED_COUNT)
        self.consumers = [self.consumer() for _ in range(self.result.consumers)]
        started = time.monotonic()
        producers = self.producers()
        next_kill = started + rng.uniform(0.5, 1.5) * kills_every
        deadline = started + timeout
        while time.monotonic() < deadline:
            done = int(client.scard("stress:done"))
            if done >= self.result.messages and all(p.poll() is not None for p in producers):
                break
            if self.stalled(client, producers):
                break
            if time.monotonic() >= next_kill and done < self.result.messages:
                self.kill_one(rng)
                next_kill = time.monotonic() + rng.uniform(0.5, 1.5) * kills_every
            if rng.random() < 0.3 and not self.plain:
                self.sabotage(client, rng)
            progress(done, self.result)
            time.sleep(0.25)
        self.result.seconds = time.monotonic() - started
        time.sleep(1.0)  # the last bad entries reach a consumer
        self.finish(client, producers)
        return self.result

    def stalled(self, client: object, producers: list[subprocess.Popen[bytes]]) -> bool:
        """Everything sent, nothing queued or unacknowledged, yet numbers missing: lost."""
        if any(p.poll() is None for p in producers):
            return False
        pending = client.llen("stress") + client.hlen("unacked")  # type: ignore[attr-defined]
        pending += client.hlen(JOURNAL) if not self.plain else 0  # type: ignore[attr-defined]
        if pending:
            self.quiet_since = None
            return False
        self.quiet_since = self.quiet_since or time.monotonic()
        return time.monotonic() - self.quiet_since > 3 * VISIBILITY

    def finish(self, client: object, producers: list[subprocess.Popen[bytes]]) -> None:
        r = self.result
        r.done = int(client.scard("stress:done"))  # type: ignore[attr-defined]
        r.runs = int(client.get("stress:runs") or 0)  # type: ignore[attr-defined]
        r.set_aside = int(client.get(MALFORMED_COUNT) or 0)  # type: ignore[attr-defined]
        for process in self.consumers:
            if process.poll() is not None:
                r.unexpected_exits.append(f"consumer pid {process.pid} rc {process.returncode}")
            else:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for process in producers:
            if process.wait(timeout=30) != 0:
                r.unexpected_exits.append(f"producer pid {process.pid} rc {process.returncode}")
        self.server.stop(timeout=30)


def progress(done: int, r: StressResult) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\r{done:>7,}/{r.messages:,} done, {r.kills} kills ")
        sys.stderr.flush()


def run_stress(
    work: Path,
    messages: int = 20_000,
    producers: int = 4,
    consumers: int = 3,
    kills_every: float = 4.0,
    timeout: float = 600.0,
    seed: int = 7,
    plain: bool = False,
) -> StressResult:
    """Run the whole stress scenario in ``work``; see the module docstring."""
    stress = Stress(work, messages, producers, consumers, plain)
    return stress.run(kills_every, timeout, seed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--consumers", type=int, default=3)
    parser.add_argument("--kills-every", type=float, default=4.0, help="mean seconds")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-control", action="store_true", help="skip kombu's own transport")
    args = parser.parse_args()
    print_load("load before")
    runs = {}
    for name, plain in [("ours", False)] + ([] if args.no_control else [("kombu", True)]):
        with tempfile.TemporaryDirectory(prefix="bench-broker-") as work:
            print(f"running on {name} transport ...", file=sys.stderr)
            runs[name] = run_stress(
                Path(work),
                args.messages,
                args.producers,
                args.consumers,
                args.kills_every,
                seed=args.seed,
                plain=plain,
            )
    print(f"\nload: {os.getloadavg()[0]:.2f} (1-min average), {os.cpu_count()} CPUs")
    print_table(runs)
    ours = runs["ours"]
    print("OK" if ours.ok else f"FAILED: {ours.unexpected_exits}")
    out = REPO / "benchmarks" / "results" / "broker.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {k: {**asdict(r), "lost": r.lost, "ok": r.ok} for k, r in runs.items()}, indent=2
        )
    )
    return 0 if ours.ok else 1


def print_table(runs: dict[str, StressResult]) -> None:
    rows = [
        ("messages", lambda r: f"{r.messages:,} from {r.producers} producers"),
        ("consumers SIGKILLed", lambda r: f"{r.consumers}, {r.kills} times"),
        ("done / lost", lambda r: f"{r.done:,} / {r.lost:,}"),
        ("redeliveries", lambda r: f"{r.runs - r.done:,}"),
        ("bad entries / set aside", lambda r: f"{r.bad_entries} / {r.set_aside}"),
        ("unexpected exits", lambda r: str(len(r.unexpected_exits))),
        ("time", lambda r: f"{r.seconds:.1f} s ({r.done / max(r.seconds, 1e-9):,.0f}/s)"),
    ]
    names = list(runs)
    print(f"{'':<26}" + "".join(f"{n + ' transport':<28}" for n in names))
    for label, show in rows:
        print(f"{label:<26}" + "".join(f"{show(runs[n]):<28}" for n in names))


if __name__ == "__main__":
    sys.exit(main())
