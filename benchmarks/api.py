"""API benchmark: throughput and latency of cached and uncached queries (forecasts, and the
planner routes /actions, /series, /kpis) against a bare FastAPI endpoint (the ceiling), and
Kafka -> WebSocket alert latency.

One API process (`nova serve`, uvicorn) and one bare FastAPI process returning, for each
route, a constant JSON body: the route's cached response; a keep-alive HTTP/1.1 load generator with 64
connections on 127.0.0.1, for a fixed time per scenario; then 500 WebSocket clients (bare
RFC 6455 clients spread over ``--client-processes`` processes, so that the measuring side
costs little) while alerts are produced to Kafka; an alert's latency at a client is its
receive time minus the produce time carried in the alert. Redis and the Kafka-protocol broker (Tansu) start from
binaries in temp dirs, as in the tests. The load generator shares the machine's cores with
the servers, so the figures are a floor.

Issue 17's scenario adds forecasts of one item per request, a different item each time
(every request a cache miss), at 16 connections; ``--lake`` runs everything on a built lake
(the default demo's) instead of the synthetic gold. The API process's RSS is printed, and a
last line says which targets are met.

    uv run --no-sync python benchmarks/api.py [--seconds 5] [--clients 500] [--alerts 40]
        [--client-processes 2] [--no-ws] [--lake .lake] [--routes forecasts,actions,...]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import write_deltalake
from rich.console import Console
from rich.table import Table

from backend.appdb import upgrade
from backend.appdb.keys import create_key
from backend.events.kafka import encode, ensure_topics, producer
from backend.events.outbox import bump_gold_version
from backend.lake import delta
from backend.settings import Settings
from tests.services.gold import DEPOTS, SCHEMAS, action_rows, build_gold, write_gold
from tests.services.kafka import kafka_broker
from tests.services.postgres import free_port
from tests.services.redis import redis_server, wait_for_port

console = Console(width=160)  # a wide table even when piped
CONNECTIONS = 64
ONE_ITEM_CONNECTIONS = 16  # issue 17's one-item scenario
ITEMS = [f"ITM{n:04d}" for n in range(300)]


def forecast_table(settings: Settings, horizon: int = 30) -> None:
    """300 items x 2 depots x 30 days of the latest run, and 60 past days with actuals."""
    run = date(2026, 10, 31)
    rows = []
    for _n, item in enumerate(ITEMS):
        for depot in DEPOTS:
            for h in range(1, horizon + 1):
                rows.append((run, item, depot, run + timedelta(days=h), h, None))
            for back in range(1, 61):
                rows.append(
                    (
                        run - timedelta(days=back),
                        item,
                        depot,
                        run - timedelta(days=back - 1),
                        1,
                        4.0,
                    )
                )
    write_gold(settings, "fct_forecasts", [
        {"forecast_date": f, "item_id": i, "depot_id": d, "target_date": t, "horizon_day": h,
         "demand_class": "smooth", "yhat": 5.0, "yhat_lo_80": 4.0, "yhat_hi_80": 6.0,
         "yhat_lo_95": 3.0, "yhat_hi_95": 7.0, "model_version": "ets-1", "actual_qty": a,
         "abs_error": None if a is None else 1.0}
        for f, i, d, t, h, a in rows
    ], SCHEMAS["fct_forecasts"])  # fmt: skip


def planner_tables(settings: Settings, days: int = 365) -> None:
    """The planner routes' marts at the benchmark's size: a year of daily demand, month-end
    snapshots and reorder points for 300 items x 2 depots, and a work list of 600 lines."""
    run = date(2026, 10, 31)
    pairs = [(item, depot) for item in ITEMS for depot in DEPOTS]
    first = run - timedelta(days=days - 1)
    dates = [first + timedelta(days=n) for n in range(days)]
    n = len(pairs) * days
    demand = pa.table({
        "daily_demand_key": pa.array(range(n), pa.int64()),
        "item_id": [p[0] for p in pairs for _ in dates],
        "depot_id": [p[1] for p in pairs for _ in dates],
        "demand_date": pa.array(dates * len(pairs), pa.date32()),
        "demand_qty": pa.array([k % 5 for k in range(n)], pa.int64()),
        "movement_count": pa.array([1] * n, pa.int64()),
        "receipts_qty": pa.array([20 if d.day == 10 else 0 for d in dates] * len(pairs), pa.int64()),
        "adjustments_qty": pa.array([0] * n, pa.int64()),
    })  # fmt: skip
    write_deltalake(delta.table_uri("gold", "fct_daily_demand", settings=settings), demand,
                    mode="overwrite", schema_mode="overwrite",
                    storage_options=delta.storage_options(settings))  # fmt: skip
    # each month's last day, and the run date (itself a month end here: once)
    month_ends = sorted({d for d in dates if (d + timedelta(days=1)).day == 1} | {run})
    write_gold(settings, "fct_inventory_snapshot", [
        {"item_id": i, "depot_id": d, "snapshot_date": s, "on_hand": 20, "on_order": 0,
         "unit_cost": 12.5, "stock_value": 250.0}
        for i, d in pairs for s in month_ends
    ], SCHEMAS["fct_inventory_snapshot"])  # fmt: skip
    write_gold(settings, "fct_reorder_points", [
        {"as_of_date": run, "item_id": i, "depot_id": d, "demand_class": "smooth",
         "service_level": 0.95, "lead_time_days": 7.0, "avg_daily_demand": 2.0,
         "demand_std_lead_time": 3.0, "safety_stock": 5.0, "reorder_point": 10.0,
         "order_up_to": 30.0, "on_hand": 20.0, "on_order": 0.0, "suggested_order_qty": 0.0,
         "unit_cost": 12.5}
        for i, d in pairs
    ], SCHEMAS["fct_reorder_points"])  # fmt: skip
    template = action_rows()
    write_gold(settings, "fct_actions", [
        {**template[k % 5], "action_id": f"ACT-{i}-{d}", "item_id": i, "depot_id": d,
         "priority": (k * 7919 % 1000) / 1000, "days_to_stockout": k % 15}
        for k, (i, d) in enumerate(pairs)
    ], SCHEMAS["fct_actions"])  # fmt: skip


BARE_APP = """
import sys
from pathlib import Path
from fastapi import FastAPI, Response
bodies = {p.stem: p.read_bytes() for p in Path(sys.argv[2]).glob("*.json")}
app = FastAPI()

@app.get("/bare/{name}")
async def bare(name: str) -> Response:
    return Response(content=bodies[name], media_type="application/json")

import uvicorn
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


async def load(
    port: int,
    paths: list[bytes],
    seconds: float,
    token: str | None,
    connections: int = CONNECTIONS,
) -> dict[str, float]:
    """Keep-alive GETs over ``connections`` connections for ``seconds``; rps, p50, p99 (ms)."""
    auth = f"Authorization: Bearer {token}\r\n".encode() if token else b""
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop_at:
                path = paths[next(counter) % len(paths)]
                began = time.perf_counter()
                writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + b"\r\n")
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - began)
                if not head.startswith(b"HTTP/1.1 200"):
                    errors += 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99)] * 1000,
    }


class _AlertClient(asyncio.Protocol):
    """A bare WebSocket client (RFC 6455, text frames only): the websockets library's
    per-message cost, 500 times per alert in the measuring process, would be measured
    instead of the server's."""

    def __init__(
        self,
        alerts: int,
        samples: list[float],
        done: asyncio.Future[None],
        subscribed: asyncio.Future[None],
    ) -> None:
        self.alerts, self.samples, self.done, self.subscribed = alerts, samples, done, subscribed
        self.buffer = b""
        self.upgraded = False
        self.got = 0
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        if not self.upgraded:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            if not head.startswith(b"HTTP/1.1 101"):
                self.subscribed.set_exception(RuntimeError(head.decode(errors="replace")))
                return
            self.upgraded, self.buffer = True, rest
        while len(self.buffer) >= 2:
            opcode, size = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F
            at = 2
            if size == 126:
                size, at = int.from_bytes(self.buffer[2:4], "big"), 4
            elif size == 127:
                size, at = int.from_bytes(self.buffer[2:10], "big"), 10
            if len(self.buffer) < at + size:
                return
            payload, self.buffer = self.buffer[at : at + size], self.buffer[at + size :]
            if opcode == 0x9:  # ping: pong, masked with a zero key as clients must mask
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + bytes(4) + payload)
            elif opcode == 0x1:
                message = json.loads(payload)
                if message["type"] == "subscribed" and not self.subscribed.done():
                    self.subscribed.set_result(None)
                elif message["type"] == "alert":
                    self.samples.append(now - message["data"]["sent_ts"])
                    self.got += 1
                    if self.got == self.alerts and not self.done.done():
                        self.done.set_result(None)


async def _alert_clients(
    port: int, token: str, clients: int, alerts: int, ready: Any, go: Any
) -> list[float]:
    loop = asyncio.get_running_loop()
    samples: list[float] = []
    dones, protocols = [], []
    for _ in range(clients):
        done, subscribed = loop.create_future(), loop.create_future()
        _, protocol = await loop.create_connection(
            lambda d=done, s=subscribed: _AlertClient(alerts, samples, d, s), "127.0.0.1", port
        )
        key = base64.b64encode(os.urandom(16))
        protocol.transport.write(
            b"GET /ws/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Authorization: Bearer " + token.encode() + b"\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
            + key
            + b"\r\n\r\n"
        )
        await subscribed
        dones.append(done)
        protocols.append(protocol)
    ready.set()
    await loop.run_in_executor(None, go.wait)
    await asyncio.wait_for(asyncio.gather(*dones), 120)
    for protocol in protocols:  # close frame 1000, masked with a zero key
        protocol.transport.write(bytes([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8]))
        protocol.transport.close()
    return samples


def _alert_client_process(
    port: int, token: str, clients: int, alerts: int, ready: Any, go: Any, results: Any
) -> None:
    import uvloop

    results.put(uvloop.run(_alert_clients(port, token, clients, alerts, ready, go)))


async def _produce_alerts(settings: Settings, alerts: int) -> None:
    assert settings.kafka_bootstrap
    kafka = producer(settings.kafka_bootstrap)
    await kafka.start()
    try:
        for n in range(alerts):
            payload = {
                "alert_id": f"bench-{n}-{time.time_ns()}",
                "alert_date": "2026-11-01",
                "item_id": "ITM0001",
                "depot_id": "DEP01",
                "severity": "warning",
                "message": "benchmark",
                "source": "stream",
                "sent_ts": time.time(),
            }
            await kafka.send_and_wait(settings.alerts_topic, encode(payload))
            await asyncio.sleep(0.1)
    finally:
        await kafka.stop()


def alert_latency(
    settings: Settings, port: int, token: str, clients: int, alerts: int, processes: int
) -> dict[str, float]:
    """Clients in ``processes`` processes of their own; each delivery's latency is its
    receive time minus the produce time carried in the alert."""
    ctx = multiprocessing.get_context("spawn")
    ready, go, results = [ctx.Event() for _ in range(processes)], ctx.Event(), ctx.Queue()
    shares = [clients // processes + (n < clients % processes) for n in range(processes)]
    workers = [
        ctx.Process(
            target=_alert_client_process, args=(port, token, share, alerts, ready[n], go, results)
        )
        for n, share in enumerate(shares)
    ]
    for worker in workers:
        worker.start()
    for event in ready:
        if not event.wait(120):
            raise RuntimeError("WebSocket clients did not connect")
    go.set()
    asyncio.run(_produce_alerts(settings, alerts))
    samples = sorted(s for _ in workers for s in results.get(timeout=120))
    for worker in workers:
        worker.join(10)
    return {
        "samples": len(samples),
        "p50": samples[len(samples) // 2] * 1000,
        "p99": samples[int(len(samples) * 0.99)] * 1000,
        "max": samples[-1] * 1000,
    }


def http_routes(
    pairs: list[tuple[str, str]], depots: list[str], run: date
) -> dict[str, tuple[str, list[bytes]]]:
    """Per route: the path asked again and again (cached), and paths never asked before
    (each one a read of gold); ``pairs`` are the item x depot pairs with forecasts."""
    n, (item, depot) = 200_000, pairs[7 % len(pairs)]
    days = [(run - timedelta(days=k)).isoformat() for k in range(30, 300)]
    kpi_scopes = ["", *(f"&depot_id={d}" for d in depots[:2])]
    return {
        "forecasts": (
            f"/api/v1/forecasts?item_id={item}&depot_id={depot}&limit=100",
            [f"/api/v1/forecasts?item_id={pairs[k % len(pairs)][0]}"
             f"&depot_id={pairs[k % len(pairs)][1]}&limit=100&offset={k // len(pairs) % 60}".encode()
             for k in range(n)],
        ),
        "actions": (
            "/api/v1/actions?limit=100",
            [f"/api/v1/actions?limit={50 + k % 50}&offset={k // 50 % 600}".encode()
             for k in range(n)],
        ),
        "series": (
            f"/api/v1/series?item_id={item}&depot_id={depot}",
            [f"/api/v1/series?item_id={pairs[k * 7 % len(pairs)][0]}"
             f"&depot_id={pairs[k * 7 % len(pairs)][1]}"
             f"&start={days[k // len(pairs) % len(days)]}".encode() for k in range(n)],
        ),
        "kpis": (
            "/api/v1/kpis",
            [f"/api/v1/kpis?months={1 + k % 60}&weeks={1 + k // 60 % 104}"
             f"{kpi_scopes[k // 6240 % len(kpi_scopes)]}".encode()
             for k in range(6240 * len(kpi_scopes))],
        ),
    }  # fmt: skip


def one_item_paths(pairs: list[tuple[str, str]], count: int = 200_000) -> list[bytes]:
    """Forecasts of one item x depot per request, the next request another pair (and,
    once every pair was asked, another offset and page size): each path a cache miss."""
    return [
        f"/api/v1/forecasts?item_id={pairs[k % len(pairs)][0]}"
        f"&depot_id={pairs[k % len(pairs)][1]}"
        f"&offset={k // len(pairs) % 10}&limit={50 + k // (len(pairs) * 10) % 50}".encode()
        for k in range(count)
    ]


def lake_keys(settings: Settings) -> tuple[list[tuple[str, str]], list[str], date]:
    """The item x depot pairs and depots of a built lake's latest forecast run (in a mixed
    order, so that consecutive requests read different items), and its run date."""
    from backend.lake.reader import GoldReader

    reader = GoldReader.published(settings)
    latest = "forecast_date = (select max(forecast_date) from delta_scan($t_fct_forecasts))"
    pairs = reader.rows(
        f"select distinct item_id, depot_id from delta_scan($t_fct_forecasts) where {latest}",
        tables=["fct_forecasts"],
    )
    run = reader.rows(
        "select max(demand_date) as d from delta_scan($t_fct_daily_demand)",
        tables=["fct_daily_demand"],
    )
    if not pairs or not run:
        raise SystemExit(f"{settings.lake_root}: no published forecasts; run `make demo` first")
    keys = sorted((p["item_id"], p["depot_id"]) for p in pairs)
    mixed = [keys[k * 7919 % len(keys)] for k in range(len(keys))]  # 7919: prime
    if len(set(mixed)) != len(keys):  # the count shares a factor with 7919
        mixed = keys
    return mixed, sorted({p["depot_id"] for p in pairs}), run[0]["d"]


def wait_warm(
    port: int, token: str, pairs: list[tuple[str, str]], run: date, limit: float
) -> float:
    """Seconds until the API answers a never-asked one-item forecast and pair series in
    under 50 ms each, three times in a row: it has warmed the gold version (tables held in memory, KPI figures),
    which takes a while on a large lake."""
    import httpx

    began = time.perf_counter()
    headers = {"Authorization": f"Bearer {token}"}
    fast = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=120) as http:
        for k in range(10**6):
            item, depot = pairs[(k * 7919 + 13) % len(pairs)]
            took = []
            for path in (f"/api/v1/forecasts?item_id={item}&limit={1 + k % 97}",
                         f"/api/v1/series?item_id={item}&depot_id={depot}"
                         f"&start={run - timedelta(days=30 + k % 200)}"):  # fmt: skip
                start = time.perf_counter()
                http.get(path).raise_for_status()
                took.append(time.perf_counter() - start)
            # Three rounds in a row: a DuckDB read can also pass once while the warm-up
            # still runs (and its load and collections would land in the scenarios).
            fast = fast + 1 if max(took) < 0.05 else 0
            if fast == 3 or time.perf_counter() - began > limit:
                break
            time.sleep(1.0)
    return time.perf_counter() - began


def rss_mib(pid: int) -> tuple[float, float]:
    """Resident memory of ``pid`` now and at its peak, MiB (Linux /proc)."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _scenarios(
    name: str, cached_path: str, uncached: list[bytes], api_port: int, bare_port: int, token: str
) -> list[tuple[str, int, list[bytes], str | None, int]]:
    # The last scenario: what one uncached request costs when it does not queue behind 63
    # others (its paths are the far end of the same never-asked list).
    half, many = len(uncached) // 2, CONNECTIONS
    return [
        ("bare FastAPI, constant body", bare_port, [f"/bare/{name}".encode()], None, many),
        ("cached", api_port, [cached_path.encode()], token, many),
        ("uncached (reads of gold)", api_port, uncached[:half], token, many),
        ("uncached, 1 connection", api_port, uncached[half:], token, 1),
    ]


def _measure(port: int, paths: list[bytes], seconds: float, key: str | None,
             conns: int) -> dict[str, float]:  # fmt: skip
    # warm up on paths the measured run does not ask for
    warm = paths if len(paths) == 1 else paths[-CONNECTIONS:]
    asyncio.run(load(port, warm, 1.0, key, conns))
    measured = paths if len(paths) == 1 else paths[:-CONNECTIONS]
    return asyncio.run(load(port, measured, seconds, key, conns))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--alerts", type=int, default=40)
    parser.add_argument("--client-processes", type=int, default=2,
                        help="processes the WebSocket clients are spread over")  # fmt: skip
    parser.add_argument("--no-ws", action="store_true", help="HTTP scenarios only")
    parser.add_argument("--lake", help="a built lake to read (e.g. .lake of `make demo`), as "
                        "published; default: a synthetic gold (tests/services/gold.py)")  # fmt: skip
    parser.add_argument("--routes", default="forecasts,actions,series,kpis",
                        help="comma-separated routes of the 64-connection scenarios")  # fmt: skip
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    work = Path(tempfile.mkdtemp(prefix="nova-bench-api-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with redis_server() as redis, kafka_broker() as bootstrap:
            lake_root = str(Path(args.lake).resolve()) if args.lake else str(work / "lake")
            settings = Settings(
                env="test", lake_root=lake_root, warehouse_dir=work / "wh",
                redis_url=redis.url, kafka_bootstrap=bootstrap,
            )  # fmt: skip
            if args.lake:
                pairs, depots, run = lake_keys(settings)
            else:
                build_gold(settings, version=None)
                forecast_table(settings)
                planner_tables(settings)
                # Published as the pipeline publishes: the version names each table's
                # Delta version, so the API reads that snapshot.
                bump_gold_version(settings, "bench", date(2026, 10, 31))
                pairs = [(i, d) for d in DEPOTS for i in ITEMS]  # the next request: another item
                depots, run = DEPOTS, date(2026, 10, 31)
            asyncio.run(ensure_topics(bootstrap, settings.alerts_topic))
            # The API key lives in a throwaway app database: a given lake is only read.
            _, token = create_key(upgrade(settings), role="viewer")
            api_port, bare_port = free_port(), free_port()
            env = {**os.environ, "NOVA_LAKE_ROOT": settings.lake_root,
                   "NOVA_WAREHOUSE_DIR": str(settings.warehouse_dir), "NOVA_REDIS_URL": redis.url,
                   "NOVA_KAFKA_BOOTSTRAP": bootstrap, "NOVA_WS_QUEUE_SIZE": "1024",
                   # one key sends every request: per-client limits would measure themselves
                   "NOVA_API_RATE_PER_MINUTE": "0", "NOVA_API_MAX_IN_FLIGHT": "0",
                   "NOVA_API_CLIENT_QUERY_WORKERS": "0"}  # fmt: skip
            nova = shutil.which("nova") or str(Path(sys.executable).parent / "nova")
            api = subprocess.Popen(
                [nova, "serve", "--port", str(api_port)], env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            procs.append(api)
            wait_for_port(api_port, 60)
            import httpx

            wanted = [r.strip() for r in args.routes.split(",") if r.strip()]
            routes = {k: v for k, v in http_routes(pairs, depots, run).items() if k in wanted}
            bodies = work / "bodies"
            bodies.mkdir()
            for name, (cached_path, _) in routes.items():
                response = httpx.get(f"http://127.0.0.1:{api_port}{cached_path}", timeout=120,
                                     headers={"Authorization": f"Bearer {token}"})  # fmt: skip
                response.raise_for_status()
                (bodies / f"{name}.json").write_bytes(response.content)
            procs.append(subprocess.Popen(
                [sys.executable, "-c", BARE_APP, str(bare_port), str(bodies)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))  # fmt: skip
            wait_for_port(bare_port, 60)
            warmed = wait_warm(api_port, token, pairs, run, 300)
            console.print(f"the API warmed the gold version in {warmed:.0f} s "
                          "(a never-asked one-item read under 50 ms)")  # fmt: skip
            where = f"lake {settings.lake_root}" if args.lake else "synthetic gold"
            table = Table("route", "scenario", "body bytes", "requests", "req/s", "p50 ms",
                          "p99 ms", "non-200", "vs bare",
                          title=f"HTTP, one API process on {where} ({len(pairs):,} item x depot "
                          f"pairs), {CONNECTIONS} connections unless said, "
                          f"{args.seconds:g}s each")  # fmt: skip
            verdicts, targets = [], []
            for name, (cached_path, uncached) in routes.items():
                size = (bodies / f"{name}.json").stat().st_size
                runs = _scenarios(name, cached_path, uncached, api_port, bare_port, token)
                results = {}
                for scenario, port, paths, key, conns in runs:
                    results[scenario] = r = _measure(port, paths, args.seconds, key, conns)
                    ratio = r["rps"] / results[runs[0][0]]["rps"]
                    table.add_row(name, scenario, f"{size:,}", f"{r['requests']:,}",
                                  f"{r['rps']:,.0f}", f"{r['p50']:.1f}", f"{r['p99']:.1f}",
                                  str(r["errors"]), f"{ratio:.0%}")  # fmt: skip
                bare, cached = results[runs[0][0]], results[runs[1][0]]
                uncached_p99 = results[runs[2][0]]["p99"]
                share = cached["rps"] / bare["rps"]
                verdicts.append(
                    f"{name}: cached / bare {share:.0%} (target >= 50%), "
                    f"cached p99 / bare p99 {cached['p99'] / bare['p99']:.2f}x; "
                    f"uncached p99 {uncached_p99:.0f} ms (target < 250 ms)"
                )
                targets.append((f"{name} cached {share:.0%} of bare (>= 50%)", share >= 0.5))
                targets.append(
                    (f"{name} uncached p99 {uncached_p99:.0f} ms (< 250 ms)", uncached_p99 < 250)
                )
            # Issue 17: one item's forecasts per request, never the same path twice.
            one = _measure(api_port, one_item_paths(pairs), args.seconds, token,
                           ONE_ITEM_CONNECTIONS)  # fmt: skip
            table.add_row("forecasts", f"uncached, one item per request, "
                          f"{ONE_ITEM_CONNECTIONS} connections", "", f"{one['requests']:,}",
                          f"{one['rps']:,.0f}", f"{one['p50']:.1f}", f"{one['p99']:.1f}",
                          str(one["errors"]), "")  # fmt: skip
            targets.append((f"one-item uncached forecasts {one['rps']:,.0f} req/s (>= 1,000)",
                            one["rps"] >= 1000))  # fmt: skip
            targets.append((f"one-item uncached forecasts p99 {one['p99']:.1f} ms (< 50 ms)",
                            one["p99"] < 50))  # fmt: skip
            now, peak = rss_mib(api.pid)
            console.print(table)
            for line in verdicts:
                console.print(line)
            console.print(f"API process RSS after the HTTP scenarios: {now:,.0f} MiB "
                          f"(peak {peak:,.0f} MiB)")  # fmt: skip
            missed = [t for t, ok in targets if not ok]
            console.print(
                f"targets: {'not met' if missed else 'met'} ("
                + "; ".join(f"{t}: {'met' if ok else 'NOT met'}" for t, ok in targets)
                + ")"
            )
            if args.no_ws:
                return
            ws = alert_latency(settings, api_port, token, args.clients, args.alerts,
                               args.client_processes)  # fmt: skip
            console.print(
                f"Kafka -> WebSocket alert latency, {args.clients} clients "
                f"({args.client_processes} processes) x {args.alerts} alerts "
                f"({ws['samples']:,} deliveries): p50 {ws['p50']:.1f} ms, p99 {ws['p99']:.1f} ms, "
                f"max {ws['max']:.1f} ms (target p99 < 100 ms)"
            )
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
