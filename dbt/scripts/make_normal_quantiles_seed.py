"""Write dbt/seeds/normal_quantiles.csv: the standard normal quantile of every service
level on a 1/2000 grid (0.0005 ... 0.9995), for fct_reorder_points, which joins a pair's
level on level_key = floor(level x 2000 + 0.5) (SQL has no inverse normal function on
both DuckDB and Spark). ml.inventory.value_aware_service_levels uses the same grid.

    uv run --no-sync python dbt/scripts/make_normal_quantiles_seed.py
"""

from __future__ import annotations

from pathlib import Path

from scipy.stats import norm

GRID = 2000
SEED = Path(__file__).resolve().parents[1] / "seeds" / "normal_quantiles.csv"


def main() -> None:
    lines = ["level_key,service_level,z_score"]
    for key in range(1, GRID):
        level = key / GRID
        lines.append(f"{key},{level:.4f},{norm.ppf(level):.6f}")
    SEED.write_text("\n".join(lines) + "\n")
    print(f"wrote {GRID - 1} levels to {SEED}")


if __name__ == "__main__":
    main()
