"""Celery brokers side by side: the no-op round trip on Redis and on RabbitMQ (issue 16).

One production worker per broker (``celery -A stock_manager worker``, one pool process,
queue ``ticks``, ``-I benchmarks._noop``), started with nothing different but
``CELERY_BROKER_URL``. The benchmark sends the no-op the way the stream sends a tick
(``send_task`` on queue ``ticks``, the production Celery settings) and waits with ``BLPOP``
for the push the task makes onto a Redis list; that is one round trip. The two brokers
take turns call by call (the order rotates), ``--samples`` each per run, over ``--runs``
runs; the table gives pooled p50/p99 and the spread of the per-run figures, and the load.

    .venv/bin/python -m benchmarks.bench_celery_brokers [--runs 3] [--samples 500]
        [--redis URL] [--amqp URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import redis

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._noop import NOOP_TASK
from benchmarks._report import percentile, print_load, report, spread
from benchmarks._system import REPO, start_worker, wait_for
from stock_manager.demo.plan import CLEARED
from stock_manager.demo.processes import Child, ProcessGroup

QUEUE = "ticks"
WARMUP = 20


def worker_env(work: Path, redis_url: str, broker: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(
        {
            "DATA_DIR": str(work / "data"),
            "DATABASE_URL": f"sqlite:///{work / 'ledger.db'}",
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": broker,
            "LOCK_BACKEND": "redis",
            "KIS_ENV": "sim",
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def producer(env: dict[str, str]) -> Any:
    """A Celery app with the production settings for ``env``'s broker (sending only)."""
    from celery import Celery

    from stock_manager.celery_config import build_celery_config
    from stock_manager.config import Settings

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        settings = Settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    app = Celery(f"bench-{uuid.uuid4().hex[:4]}")
    app.conf.update(build_celery_config(settings))
    return app


def start_broker_worker(group: ProcessGroup, name: str) -> Child:
    """One worker process on queue ``ticks``, as the system benchmarks start theirs."""
    return start_worker(group, name, f"{name}-{uuid.uuid4().hex[:6]}@%h", 1, "-Q", QUEUE)


def round_trip(app: Any, client: redis.Redis, key: str) -> float:
    start = time.perf_counter()
    app.send_task(NOOP_TASK, args=[key], queue=QUEUE)
    if client.blpop([key], timeout=10) is None:
        raise RuntimeError(f"no answer from the no-op within 10 s ({app.conf.broker_url})")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=500, help="per broker and run")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/8", help="flushed!")
    parser.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672//")
    args = parser.parse_args()
    before = print_load("load before")
    client = redis.Redis.from_url(args.redis)
    client.flushdb()
    brokers = {"Redis": args.redis, "RabbitMQ": args.amqp}
    times: dict[str, list[list[float]]] = {name: [] for name in brokers}
    with tempfile.TemporaryDirectory(prefix="bench-brokers-") as folder:
        work = Path(folder)
        groups, apps = [], {}
        try:
            for name, url in brokers.items():
                env = worker_env(work / name, args.redis, url)
                group = ProcessGroup(work / "logs", env)
                groups.append(group)
                child = start_broker_worker(group, f"worker-{name.lower()}")
                wait_for(lambda c=child: _ready(c), 60, f"the {name} worker", 0.1)
                apps[name] = producer(env)
            key = f"bench:brokers:{uuid.uuid4().hex[:6]}"
            names = list(brokers)
            for _ in range(WARMUP):
                for name in names:
                    round_trip(apps[name], client, key)
            for _ in range(args.runs):
                run: dict[str, list[float]] = {name: [] for name in names}
                for i in range(args.samples):
                    order = names if i % 2 == 0 else names[::-1]
                    for name in order:
                        run[name].append(round_trip(apps[name], client, key))
                for name in names:
                    times[name].append(run[name])
        finally:
            for group in groups:
                group.stop()
            client.flushdb()
            client.close()
    rows, figures = [], {}
    for name, runs in times.items():
        pooled = [s for r in runs for s in r]
        p50s = [percentile(r, 50) * 1000 for r in runs]
        p99s = [percentile(r, 99) * 1000 for r in runs]
        figures[name] = {"p50_ms_runs": p50s, "p99_ms_runs": p99s}
        rows.append(
            [
                name,
                len(pooled),
                percentile(pooled, 50) * 1000,
                percentile(pooled, 99) * 1000,
                _spread(p50s),
                _spread(p99s),
            ]
        )
    ratio = [
        percentile(r, 50) / percentile(a, 50)
        for r, a in zip(times["RabbitMQ"], times["Redis"], strict=True)
    ]
    figures["rabbitmq_over_redis_p50_runs"] = ratio
    report(
        "celery_brokers",
        f"no-op Celery round trip, brokers interleaved call by call ({args.runs} runs); "
        f"RabbitMQ/Redis p50 {statistics.median(ratio):.2f} ({_spread(ratio)})",
        ["broker", "samples", "p50 ms", "p99 ms", "p50 per run", "p99 per run"],
        rows,
        {"load_before": before, **figures},
    )


def _ready(child: Child) -> bool:
    if not child.alive:
        raise RuntimeError(f"{child.name} exited; see {child.log}")
    return child.log.exists() and " ready." in child.log.read_text(errors="replace")


def _spread(values: list[float]) -> str:
    s = spread(values)
    return f"{s['min']:.2f}–{s['max']:.2f}" if s else ""


if __name__ == "__main__":
    main()
