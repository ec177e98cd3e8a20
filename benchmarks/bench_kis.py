"""KIS rate limiter: cost per acquire against a bare Redis round trip in the same run (goal:
at most 2x), and requests/s achieved against the configured rate when processes hammer the
simulator (20/s per app key) through the shared limiter.

    .venv/bin/python benchmarks/bench_kis.py [--runs 5] [--samples 500] [--load-seconds 10]
        [--processes 4] [--rates 18,20] [--redis URL]
"""

from __future__ import annotations

import argparse
import bisect
import functools
import gc
import multiprocessing
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import redis
from pydantic import SecretStr

from benchmarks._report import interleaved, percentile, print_load, report
from stock_manager.adapters.kis import trids
from stock_manager.adapters.kis.credentials import KisCredentials
from stock_manager.adapters.kis.environments import KisEnvironment
from stock_manager.adapters.kis.errors import KISError
from stock_manager.adapters.kis.http import KisHttp, RetryPolicy
from stock_manager.adapters.kis.rate_limit import FileRateLimiter, RedisRateLimiter
from stock_manager.adapters.kis.token_store import RedisTokenStore
from stock_manager.ports import Lane
from stock_manager.sim.config import SimConfig
from stock_manager.sim.server import SimServer

FORK = multiprocessing.get_context("fork")


def limiter_costs(url: str, runs: int, samples: int) -> list[list[Any]]:
    """Each acquire interleaved call by call with a bare ``PING`` (and the file limiter);
    p50/p99 pooled over the runs, the ratio a median of the runs' with its spread."""
    client = redis.Redis.from_url(url)
    namespace = f"bench:{uuid.uuid4().hex[:8]}:"
    limiter = RedisRateLimiter(client, "cost", 1e9, namespace=namespace)  # never waits
    with tempfile.TemporaryDirectory() as folder:
        local = FileRateLimiter(Path(folder) / "rl.json", 1e9)
        ops = {
            "redis limiter acquire": lambda: limiter.acquire(Lane.SYNC),
            "redis PING (reference)": client.ping,
            "file limiter acquire": lambda: local.acquire(Lane.SYNC),
        }
        times = interleaved(ops, runs, samples)
    for key in client.scan_iter(match=namespace + "*"):
        client.delete(key)
    ours, bare = times["redis limiter acquire"], times["redis PING (reference)"]
    ratios = [percentile(o, 50) / percentile(b, 50) for o, b in zip(ours, bare, strict=True)]
    ratio = statistics.median(ratios)
    spread = f"{ratio:.2f} ({min(ratios):.2f}–{max(ratios):.2f})"
    return [
        [*_pooled("redis limiter acquire", ours), spread, 2.0, ratio],
        [*_pooled("redis PING (reference)", bare), "1", None, 1.0],
        [*_pooled("file limiter acquire", times["file limiter acquire"]), "", None, None],
    ]


def _pooled(name: str, runs: list[list[float]]) -> list[Any]:
    pooled = [s for run in runs for s in run]
    return [name, len(pooled), percentile(pooled, 50) * 1e6, percentile(pooled, 99) * 1e6]


def hammer(
    rest_url: str,
    app: tuple[str, str, str],
    redis_url: str,
    namespace: str,
    rate: float,
    seconds: float,
    barrier: Any,
) -> dict[str, Any]:
    """One process: inquire-price as fast as the shared limiter lets it, no retries."""
    client = redis.Redis.from_url(redis_url)
    limiter = RedisRateLimiter(client, "load", rate, namespace=namespace)
    env = KisEnvironment("sim", "live", rest_url, "ws://unused", rate)
    creds = KisCredentials(SecretStr(app[0]), SecretStr(app[1]), app[2])
    http = KisHttp(
        env,
        creds,
        httpx.Client(),
        limiter,
        RedisTokenStore(client, namespace),
        retry=RetryPolicy(read_attempts=1, throttle_budget=0.0),
    )
    http.tokens.get()
    params = {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": "005930"}
    done: list[float] = []
    errors: dict[str, int] = {}
    barrier.wait()
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            http.request(trids.INQUIRE_PRICE, params=params, lane=Lane.SCAN)
            done.append(time.time())
        except KISError as exc:
            key = exc.code or type(exc).__name__
            errors[key] = errors.get(key, 0) + 1
    return {"done": [t for t in done if t < deadline], "errors": errors}


def busiest_second(times: list[float]) -> int:
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered)), default=0)


def load(url: str, processes: int, rate: float, seconds: float) -> list[Any]:
    config = SimConfig(rest_port=0, ws_port=0, session_minutes=60, rate_limit=20.0)
    namespace = f"bench:{uuid.uuid4().hex[:8]}:"
    with SimServer(config) as sim:
        app = (config.app_key, config.app_secret, config.account)
        gc.freeze()
        manager = FORK.Manager()
        try:
            barrier = manager.Barrier(processes)
            task = functools.partial(
                hammer, sim.rest_url, app, url, namespace, rate, seconds, barrier
            )
            with ProcessPoolExecutor(processes, mp_context=FORK) as pool:
                results = [f.result() for f in [pool.submit(task) for _ in range(processes)]]
        finally:
            manager.shutdown()
            gc.unfreeze()
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=namespace + "*"):
        client.delete(key)
    done = [t for r in results for t in r["done"]]
    throttled = sum(n for r in results for n in r["errors"].values())
    achieved = len(done) / seconds
    return [
        f"{processes} processes @ {rate:g}/s",
        achieved,
        achieved / rate,
        busiest_second(done),
        throttled,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="cost measurement runs")
    parser.add_argument("--samples", type=int, default=500, help="per operation and run")
    parser.add_argument("--load-seconds", type=float, default=10.0)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--rates", default="18,20", help="configured rates to try")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()
    print_load("load before")
    costs = limiter_costs(args.redis, args.runs, args.samples)
    ratio = costs[0].pop()
    for row in costs[1:]:
        row.pop()
    report(
        "kis_limiter_cost",
        f"rate limiter cost per acquire vs a bare Redis round trip, interleaved call by call "
        f"({args.runs} runs)",
        ["operation", "samples", "p50 µs", "p99 µs", "p50 ratio, median (min–max)", "goal"],
        costs,
        {"ratio": ratio, "goal_met": ratio <= 2.0},
    )
    rows = [
        load(args.redis, args.processes, float(rate), args.load_seconds)
        for rate in args.rates.split(",")
    ]
    report(
        "kis_throughput",
        f"requests/s through the shared limiter against the simulator at 20/s "
        f"({args.load_seconds:g} s each)",
        ["load", "achieved/s", "of configured", "busiest 1 s", "EGW00201 etc."],
        rows,
        {"goal": "achieved >= 0.95 of configured, busiest second <= 20, no EGW00201"},
    )


if __name__ == "__main__":
    main()
