"""The README's first command, many times, several at once: does it always end OK?

Runs ``stock-manager demo`` ``--runs`` times, ``--parallel`` at a time (each in its own
workspace), and reports each run's exit code, wall time and start-up time: from the launch
until the worker says ``ready``, beat says ``Starting`` and the stream says ``streaming``
(read from the demo's process logs while it runs). ``--python`` runs another checkout's
interpreter instead (e.g. the previous release), so two versions can be compared side by
side on the same machine.

    .venv/bin/python -m benchmarks.bench_demo [--runs 20] [--parallel 2] [--minutes 2]
        [--python /path/to/other/.venv/bin/python]

Prints a table and writes ``benchmarks/results/demo.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
READY = {"worker.log": b" ready.", "beat.log": b"beat: Starting", "stream.log": b"streaming from"}


@dataclass
class DemoRun:
    index: int
    exit_code: int
    seconds: float
    startup: float | None
    tail: str


def started(logs: Path) -> bool:
    for name, marker in READY.items():
        try:
            if marker not in (logs / name).read_bytes():
                return False
        except OSError:
            return False
    return True


class Launch:
    def __init__(self, index: int, python: str, minutes: float, work: Path) -> None:
        self.index, self.out = index, work / f"demo-{index}"
        self.log = work / f"demo-{index}.txt"
        self.began = time.monotonic()
        self.startup: float | None = None
        with self.log.open("wb") as sink:
            command = [python, "-m", "stock_manager", "demo", "--minutes", str(minutes)]
            self.process = subprocess.Popen(
                [*command, "--out", str(self.out), "--seed", str(100 + index)],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env={**os.environ, "TERM": "dumb", "COLUMNS": "120"},
                cwd=work,  # not the checkout: ``-m`` would import its code over the venv's
            )

    def poll(self) -> DemoRun | None:
        if self.startup is None and started(self.out / "logs"):
            self.startup = time.monotonic() - self.began
        code = self.process.poll()
        if code is None:
            return None
        tail = self.log.read_text(errors="replace")[-600:]
        return DemoRun(self.index, code, time.monotonic() - self.began, self.startup, tail)


def run_all(runs: int, parallel: int, python: str, minutes: float) -> list[DemoRun]:
    done: list[DemoRun] = []
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as folder:
        work, waiting, running = Path(folder), list(range(runs)), []
        while waiting or running:
            while waiting and len(running) < parallel:
                running.append(Launch(waiting.pop(0), python, minutes, work))
            for launch in list(running):
                result = launch.poll()
                if result is not None:
                    running.remove(launch)
                    done.append(result)
                    mark = "ok" if result.exit_code == 0 else f"FAILED ({result.exit_code})"
                    print(
                        f"run {result.index + 1:>2}: {mark} in {result.seconds:.0f} s", flush=True
                    )
            time.sleep(0.2)
    return sorted(done, key=lambda r: r.index)


def summary(name: str, results: list[DemoRun]) -> dict[str, object]:
    startups = [r.startup for r in results if r.startup is not None]
    ok = sum(r.exit_code == 0 for r in results)
    return {
        "name": name,
        "ok": ok,
        "runs": len(results),
        "startup_median_s": statistics.median(startups) if startups else None,
        "startup_max_s": max(startups) if startups else None,
        "wall_median_s": statistics.median(r.seconds for r in results),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    results = run_all(args.runs, args.parallel, args.python, args.minutes)
    row = summary(args.python, results)
    print(f"\nload at start {load:.2f}, at end {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")
    startup = (
        f"start-up median {row['startup_median_s']:.1f} s, max {row['startup_max_s']:.1f} s"
        if row["startup_median_s"] is not None
        else "no run started"
    )
    print(f"{row['ok']}/{row['runs']} exit 0; {startup}; wall median {row['wall_median_s']:.0f} s")
    for failed in (r for r in results if r.exit_code != 0):
        print(f"--- run {failed.index + 1} ---\n{failed.tail}")
    out = REPO / "benchmarks" / "results" / "demo.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"summary": row, "runs": [asdict(r) for r in results]}, indent=2))
    return 0 if row["ok"] == row["runs"] else 1


if __name__ == "__main__":
    sys.exit(main())
