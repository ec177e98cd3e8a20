"""KIS simulator throughput: REST requests/s with 200 symbols and WebSocket frames/s.

The simulator runs as its own process (``python -m stock_manager.sim``, rate limit lifted);
load comes from separate client processes. Targets: at least 500 REST requests/s over a
mix of quote and account TRs on 200 symbols, and at least 2,000 WebSocket frames/s on one
session with 41 registrations (20 symbols x H0STCNT0 + H0STASP0, plus the notice feed).

The WebSocket figure is the server's capacity, not the generator's rate: trades are made
faster step by step (the trade gap halves) until the frames delivered fall behind the
frames offered; the most delivered is the capacity.

    .venv/bin/python benchmarks/bench_sim.py [--seconds 5] [--clients 2] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import httpx
import websockets

from benchmarks._report import percentile, print_load, report
from stock_manager.config import SIM_APP_KEY, SIM_APP_SECRET

REST_TARGET, WS_TARGET = 500.0, 2000.0
V1 = "/uapi/domestic-stock/v1"
ACCOUNT = {"CANO": "12345678", "ACNT_PRDT_CD": "01"}


def start_server(
    symbols: int, tick: float, extra: list[str]
) -> tuple[subprocess.Popen[str], str, str]:
    command = [
        sys.executable,
        "-m",
        "stock_manager.sim",
        "--rest-port",
        "0",
        "--ws-port",
        "0",
        "--symbols",
        str(symbols),
        "--rate-limit",
        "0",
        "--session-minutes",
        "60",
        "--tick-interval",
        str(tick),
        *extra,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    rest = process.stdout.readline().split()[1]
    ws = process.stdout.readline().split()[1]
    return process, rest, ws


def stop_server(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=10)


def _request(symbol: str, roll: float) -> tuple[str, str, dict[str, str]]:
    quote = {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": symbol}
    if roll < 0.70:
        return "/quotations/inquire-price", "FHKST01010100", quote
    if roll < 0.85:
        return "/quotations/inquire-asking-price-exp-ccn", "FHKST01010200", quote
    if roll < 0.95:
        return (
            "/quotations/inquire-time-itemchartprice",
            "FHKST03010200",
            {
                **quote,
                "FID_ETC_CLS_CODE": "",
                "FID_INPUT_HOUR_1": "235959",
                "FID_PW_DATA_INCU_YN": "Y",
            },
        )
    return (
        "/trading/inquire-balance",
        "TTTC8434R",
        {
            **ACCOUNT,
            "AFHR_FLPR_YN": "N",
            "OFL_YN": "",
            "INQR_DVSN": "01",
            "UNPR_DVSN": "01",
            "FUND_STTL_ICLD_YN": "N",
            "FNCG_AMT_AUTO_RDPT_YN": "N",
            "PRCS_DVSN": "00",
            "CTX_AREA_FK100": "",
            "CTX_AREA_NK100": "",
        },
    )


async def _rest_loop(
    rest: str, token: str, symbols: list[str], seconds: float, concurrency: int, seed: int
) -> dict[str, Any]:
    rng = random.Random(seed)
    base = {
        "authorization": f"Bearer {token}",
        "appkey": SIM_APP_KEY,
        "appsecret": SIM_APP_SECRET,
        "custtype": "P",
    }
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(rest, connector=connector) as session:

        async def one_client() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                path, tr_id, params = _request(rng.choice(symbols), rng.random())
                started = time.perf_counter()
                async with session.get(
                    V1 + path, params=params, headers={**base, "tr_id": tr_id}
                ) as response:
                    body = await response.json()
                latencies.append(time.perf_counter() - started)
                errors += body.get("rt_cd") != "0"

        await asyncio.gather(*(one_client() for _ in range(concurrency)))
    return {"requests": len(latencies), "errors": errors, "latencies": latencies[::10]}


def rest_worker(args: tuple[str, str, list[str], float, int, int]) -> dict[str, Any]:
    return asyncio.run(_rest_loop(*args))


async def _ws_loop(ws: str, approval: str, symbols: list[str], seconds: float) -> dict[str, Any]:
    frames = subscribed = 0
    async with websockets.connect(ws + "/tryitout", max_queue=None) as socket:
        pairs = [(tr, s) for s in symbols for tr in ("H0STCNT0", "H0STASP0")]
        for tr_id, key in [*pairs, ("H0STCNI0", "simuser")]:
            header = {
                "approval_key": approval,
                "custtype": "P",
                "tr_type": "1",
                "content-type": "utf-8",
            }
            await socket.send(
                json.dumps({"header": header, "body": {"input": {"tr_id": tr_id, "tr_key": key}}})
            )
        while subscribed < len(pairs) + 1:
            message = await socket.recv()
            subscribed += isinstance(message, str) and '"OPSP0000"' in message
        started = time.perf_counter()
        deadline = started + seconds
        while (now := time.perf_counter()) < deadline:
            try:
                message = await asyncio.wait_for(socket.recv(), deadline - now)
            except TimeoutError:
                break
            frames += message[0] in "01"
    return {"frames": frames, "seconds": time.perf_counter() - started, "subscriptions": subscribed}


def _token(rest: str) -> str:
    body = {"grant_type": "client_credentials", "appkey": SIM_APP_KEY, "appsecret": SIM_APP_SECRET}
    return str(httpx.post(rest + "/oauth2/tokenP", json=body, timeout=10).json()["access_token"])


def run_rest(seconds: float, clients: int, concurrency: int) -> dict[str, Any]:
    process, rest, _ = start_server(200, 0.5, [])
    try:
        token = _token(rest)
        symbols = [s["symbol"] for s in httpx.get(rest + "/_sim/symbols").json()["symbols"]]
        jobs = [(rest, token, symbols, seconds, concurrency, n) for n in range(clients)]
        started = time.perf_counter()
        with multiprocessing.get_context("spawn").Pool(clients) as pool:
            results = pool.map(rest_worker, jobs)
        elapsed = time.perf_counter() - started
    finally:
        stop_server(process)
    requests = sum(r["requests"] for r in results)
    latencies = [lat for r in results for lat in r["latencies"]]
    return {
        "symbols": len(symbols),
        "requests": requests,
        "seconds": seconds,
        "wall_seconds": elapsed,
        "errors": sum(r["errors"] for r in results),
        "rate": requests / seconds,
        "p50_ms": percentile(latencies, 50) * 1e3,
        "p99_ms": percentile(latencies, 99) * 1e3,
    }


def run_ws(seconds: float, tick: float) -> dict[str, Any]:
    process, rest, ws = start_server(200, tick, [])
    try:
        body = {
            "grant_type": "client_credentials",
            "appkey": SIM_APP_KEY,
            "secretkey": SIM_APP_SECRET,
        }
        approval = httpx.post(rest + "/oauth2/Approval", json=body).json()["approval_key"]
        symbols = [s["symbol"] for s in httpx.get(rest + "/_sim/symbols").json()["symbols"]][:20]
        result = asyncio.run(_ws_loop(ws, approval, symbols, seconds))
    finally:
        stop_server(process)
    return {**result, "tick_interval": tick, "rate": result["frames"] / result["seconds"]}


def run_ws_ramp(seconds: float, first_tick: float, steps: int) -> dict[str, Any]:
    """Halve the simulator's mean time between trades step by step until the frames it
    delivers stop following: the offered rate is extrapolated from the first (unsaturated)
    step, frames per second times the tick interval being constant while the server keeps
    up. Capacity is the most delivered in any step, reported only once a step saturated."""
    points: list[dict[str, Any]] = []
    per_trade = 0.0
    for i in range(steps):
        tick = first_tick / 2**i
        point = run_ws(seconds, tick)
        per_trade = per_trade or point["rate"] * tick
        point["offered"] = per_trade / tick
        point["delivered_share"] = point["rate"] / point["offered"]
        points.append(point)
        print(
            f"tick {tick * 1000:.3f} ms: offered ~{point['offered']:,.0f} frames/s, "
            f"delivered {point['rate']:,.0f} ({point['delivered_share']:.0%})"
        )
        if point["delivered_share"] < 0.7:
            break
    capacity = max(p["rate"] for p in points)
    saturated = points[-1]["delivered_share"] < 0.9
    return {"points": points, "capacity": capacity, "saturated": saturated}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=2, help="REST client processes")
    parser.add_argument("--concurrency", type=int, default=16, help="connections per client")
    parser.add_argument("--ws-tick", type=float, default=0.04, help="first step's trade gap, s")
    parser.add_argument("--ws-steps", type=int, default=8, help="halvings at most")
    args = parser.parse_args()
    before = print_load("load before")
    rest = run_rest(args.seconds, args.clients, args.concurrency)
    ws = run_ws_ramp(args.seconds, args.ws_tick, args.ws_steps)
    ws_ok = ws["saturated"] and ws["capacity"] >= WS_TARGET
    rows = [
        [
            "REST requests/s (200 symbols, mixed TRs)",
            rest["rate"],
            REST_TARGET,
            rest["rate"] / REST_TARGET,
            "yes" if rest["rate"] >= REST_TARGET else "NO",
        ],
        [
            "WebSocket frames/s at saturation (1 session, 41 regs)"
            if ws["saturated"]
            else "WebSocket frames/s (NOT saturated: capacity unknown)",
            ws["capacity"],
            WS_TARGET,
            ws["capacity"] / WS_TARGET,
            "yes" if ws_ok else "NO",
        ],
    ]
    report(
        "sim",
        "KIS simulator throughput (rate limit lifted)",
        ["measure", "measured", "target", "ratio", "met"],
        rows,
        {"rest": rest, "websocket": ws, "args": vars(args), "load_before": before},
    )
    print(
        f"REST p50 {rest['p50_ms']:.1f} ms, p99 {rest['p99_ms']:.1f} ms, "
        f"{rest['errors']} non-zero rt_cd of {rest['requests']}"
    )


if __name__ == "__main__":
    main()
