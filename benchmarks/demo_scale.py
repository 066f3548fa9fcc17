"""Benchmark of the demo ERP generator: the default demo (x1) and ten times its items (x10).

Each size runs `generate_demo` into a new SQLite file in a fresh child process, so the peak
RSS is that process's own (`resource.getrusage`, which Linux reports in KiB); the child
runs under an address-space cap (`--cap-gb`, default 14) so that a regression fails the
run instead of exhausting the machine. x10 multiplies items and towers by ten and keeps
the default 8 depots (the demo has 12 depot hubs at most), so it has ten times the series
and the movements. Prints per size the wall time of the generation (generate + write), the
rows written per table and in all, rows/s and the peak RSS.

For x1 it also hashes every table (rows in rowid order, i.e. as written) and compares the
hashes with those of the default demo made by the generator before it streamed: every
figure in the README depends on that data, so the two must be the same.

    uv run python benchmarks/demo_scale.py [--sizes 1,10] [--dir /path/on/a/big/disk] [--keep]

The x10 database is about 5 GB: point --dir at a disk with room for it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backend.demo.erp import TABLES, DemoConfig, generate_demo

TARGET_RSS_BYTES = 8_000_000_000  # issue 17 item 5: the x10 demo builds within 8 GB

# sha256 of each table of the default demo (`nova demo`, seed 42, 2,000 items, 8 depots,
# 600 towers, 3 years to 2026-10-31), rows in rowid order, made by the generator as it was
# before it streamed (commit 5250630).
DEFAULT_DIGESTS = {
    "suppliers": "1dddf696649fb74358df08340d0bb226906c20e0c8286b7e68c952e618236b6e",
    "depots": "31f15b5304369813b199664504f058ea0bf76b8f7edf7ebcb94ef8bb1f104871",
    "items": "13bc4e3dc8054706c36d7eb6698ed1efe227032914885387c6b82a11f8b7a07a",
    "towers": "2d37de588274c3c786f6de08f8a408e641c1c5e77c19ec5001f5e09452d0eea3",
    "stock_movements": "cb53c39d56707572eb42cf4fe5bf50c0269b8f15142260905b71ee5f4794c544",
    "inventory_snapshots": "c983ef32091d551696c923b90f6259c2a755042d426d3eb47481dd84b2141849",
    "purchase_orders": "9a0d660b6714dee3a708762703256d7bf7f8ea065fbf2d2d1e949a3827e4fb55",
}


def table_digests(path: Path) -> dict[str, str]:
    """sha256 of every table's rows as SQLite returns them (rowid order, stored values)."""
    conn = sqlite3.connect(path)
    try:
        out = {}
        for name in TABLES:
            h = hashlib.sha256()
            for row in conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid'):
                h.update(repr(row).encode())
            out[name] = h.hexdigest()
        return out
    finally:
        conn.close()


def _config(scale: int) -> DemoConfig:
    base = DemoConfig()
    return DemoConfig(items=base.items * scale, depots=base.depots, towers=base.towers * scale)


def _child(scale: int, path: Path) -> None:
    """Runs in the child: generate, then print one JSON line with the figures."""
    started = time.perf_counter()
    counts = generate_demo(f"sqlite:///{path}", _config(scale))
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "counts": counts, "peak_bytes": peak_kib * 1024}))


def _run(scale: int, path: Path, cap_gb: float) -> dict[str, object] | None:
    cap = int(cap_gb * 1e9)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(scale), "--db", str(path)],
        preexec_fn=limit,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        print(f"x{scale}: the child failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
        return None
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10", help="scales to run, e.g. 1,10")
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where the databases go")
    parser.add_argument("--cap-gb", type=float, default=14.0, help="address-space cap (GB)")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        _child(args.child, args.db)
        return

    workdir = Path(tempfile.mkdtemp(prefix="demo-scale-", dir=args.dir))
    print(f"databases in {workdir}; load average {os.getloadavg()[0]:.2f} at start")
    targets: list[tuple[str, bool]] = []
    for scale in [int(s) for s in args.sizes.split(",") if s.strip()]:
        cfg = _config(scale)
        path = workdir / f"erp-x{scale}.sqlite"
        result = _run(scale, path, args.cap_gb)
        label = f"x{scale} ({cfg.items:,} items, {cfg.depots} depots, {cfg.towers:,} towers)"
        if result is None:
            if scale == 10:
                targets.append((f"x10 failed under a {args.cap_gb:g} GB cap", False))
            continue
        counts: dict[str, int] = result["counts"]  # type: ignore[assignment]
        seconds = float(result["seconds"])  # type: ignore[arg-type]
        peak = int(result["peak_bytes"])  # type: ignore[call-overload]
        rows = sum(counts.values())
        print(f"{label}: {seconds:.1f} s, {rows:,} rows ({rows / seconds:,.0f} rows/s), "
              f"peak RSS {peak / 1e9:.2f} GB, database {path.stat().st_size / 1e9:.2f} GB, "
              f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
        print("  " + ", ".join(f"{name} {n:,}" for name, n in counts.items()))
        if scale == 10:
            targets.append(
                (f"x10 peak RSS {peak / 1e9:.2f} GB (<= 8 GB)", peak <= TARGET_RSS_BYTES)
            )
        if scale == 1:
            digests = table_digests(path)
            changed = [n for n in TABLES if digests[n] != DEFAULT_DIGESTS[n]]
            print(f"  default demo tables unchanged: {'yes' if not changed else 'NO'}"
                  + (f" (changed: {', '.join(changed)})" if changed else ""))  # fmt: skip
            targets.append(("x1 tables identical to the default demo", not changed))
        if not args.keep:
            path.unlink()
    if not args.keep:
        workdir.rmdir()
    if targets:
        missed = [t for t, ok in targets if not ok]
        print(f"targets: {'not met' if missed else 'met'} ("
              + "; ".join(f"{t}: {'met' if ok else 'NOT met'}" for t, ok in targets) + ")")  # fmt: skip


if __name__ == "__main__":
    main()
