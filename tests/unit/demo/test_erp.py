"""The demo ERP on the small config, written to SQLite in a temporary directory."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from backend.demo import bahia
from backend.demo.erp import TABLES, DemoConfig, erp_metadata, generate_demo

SMALL = DemoConfig(items=60, depots=3, towers=40, years=1)
HISTORY_START = SMALL.end_date - timedelta(days=SMALL.years * 365 - 1)


class Demo:
    def __init__(self, path: Path, counts: dict[str, int], calls: list[tuple[str, int]]) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        self.counts = counts
        self.calls = calls
        self.engine = sa.create_engine(self.url)
        self._cache: dict[str, pd.DataFrame] = {}

    def table(self, name: str) -> pd.DataFrame:
        if name not in self._cache:
            table = erp_metadata().tables[name]
            with self.engine.connect() as conn:
                result = conn.execute(sa.select(table))
                self._cache[name] = pd.DataFrame(result.all(), columns=list(result.keys()))
        return self._cache[name].copy()

    def consumption(self) -> pd.DataFrame:
        """Valid consumption movements: deduplicated, positive, of known items."""
        mv = self.table("stock_movements").drop_duplicates()
        known = mv["item_id"].isin(self.table("items")["item_id"])
        return mv[(mv["movement_type"] == "consumption") & (mv["quantity"] > 0) & known]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    # The parent directory does not exist yet: the generator must create it.
    path = tmp_path_factory.mktemp("erp") / "nested" / "erp.sqlite"
    calls: list[tuple[str, int]] = []
    counts = generate_demo(f"sqlite:///{path}", SMALL, progress=lambda t, n: calls.append((t, n)))
    d = Demo(path, counts, calls)
    yield d
    d.engine.dispose()


def _digest(url: str) -> dict[str, str]:
    md = erp_metadata()
    engine = sa.create_engine(url)
    out = {}
    with engine.connect() as conn:
        for name in TABLES:
            table = md.tables[name]
            h = hashlib.sha256()
            for row in conn.execute(sa.select(table).order_by(*table.columns)):
                h.update(repr(tuple(row)).encode())
            out[name] = h.hexdigest()
    engine.dispose()
    return out


def test_counts_progress_and_schema(demo: Demo) -> None:
    assert demo.path.exists()
    inspector = sa.inspect(demo.engine)
    md = erp_metadata()
    for name in TABLES:
        assert len(demo.table(name)) == demo.counts[name] > 0
        # The last progress call of a table reports all its rows.
        assert [n for t, n in demo.calls if t == name][-1] == demo.counts[name]
        columns = [c["name"] for c in inspector.get_columns(name)]
        assert columns == [c.name for c in md.tables[name].columns]
        indexed = [ix["column_names"] for ix in inspector.get_indexes(name)]
        assert ["updated_at"] in indexed
    assert inspector.get_pk_constraint("stock_movements")["constrained_columns"] == []
    assert inspector.get_pk_constraint("inventory_snapshots")["constrained_columns"] == [
        "item_id",
        "depot_id",
        "snapshot_date",
    ]
    mv = demo.table("stock_movements")
    assert set(mv["movement_type"]) == {"consumption", "receipt", "adjustment"}
    assert isinstance(mv["updated_at"].iloc[0], datetime)
    assert isinstance(mv["movement_date"].iloc[0], date)
    assert mv.loc[mv["movement_type"] != "consumption", "tower_id"].isna().all()
    assert mv.loc[mv["movement_type"] == "consumption", "tower_id"].notna().all()


def test_same_config_gives_identical_content(demo: Demo, tmp_path: Path) -> None:
    again = tmp_path / "again.sqlite"
    generate_demo(f"sqlite:///{again}", SMALL)
    assert _digest(f"sqlite:///{again}") == _digest(demo.url)
    other = tmp_path / "other.sqlite"
    generate_demo(f"sqlite:///{other}", DemoConfig(items=60, depots=3, towers=40, years=1, seed=7))
    assert _digest(f"sqlite:///{other}")["stock_movements"] != _digest(demo.url)["stock_movements"]


def test_most_series_intermittent_or_lumpy_some_smooth(demo: Demo) -> None:
    cons = demo.consumption()
    daily = cons.groupby(["item_id", "depot_id", "movement_date"])["quantity"].sum().reset_index()
    created = demo.table("items").set_index("item_id")["created_at"].dt.date
    classes = []
    for (item, _), g in daily.groupby(["item_id", "depot_id"]):
        first = max(HISTORY_START, created[item])
        adi = ((SMALL.end_date - first).days + 1) / len(g)
        size = g["quantity"].to_numpy(float)
        cv2 = (size.std() / size.mean()) ** 2
        smooth_axis = "smooth" if cv2 < 0.49 else "erratic"
        classes.append(smooth_axis if adi < 1.32 else ("intermittent" if cv2 < 0.49 else "lumpy"))
    share = pd.Series(classes).value_counts(normalize=True)
    assert 0.6 <= share.get("intermittent", 0) + share.get("lumpy", 0) <= 0.92
    assert share.get("smooth", 0) >= 0.03
    assert share.get("lumpy", 0) > 0 and share.get("erratic", 0) > 0


def test_rainy_season_has_more_consumption(demo: Demo) -> None:
    daily = demo.consumption().groupby("movement_date")["quantity"].sum()
    days = pd.date_range(HISTORY_START, SMALL.end_date).date
    daily = daily.reindex(days, fill_value=0)
    rainy = np.array([4 <= d.month <= 7 for d in daily.index])
    assert daily[rainy].mean() > 1.1 * daily[~rainy].mean()


def test_weekends_and_holidays_are_quiet(demo: Demo) -> None:
    daily = demo.consumption().groupby("movement_date")["quantity"].size()
    days = pd.date_range(HISTORY_START, SMALL.end_date).date
    daily = daily.reindex(days, fill_value=0)
    weekday = np.array([d.weekday() for d in daily.index])
    assert daily[weekday == 6].mean() < 0.5 * daily[weekday < 5].mean()
    sao_joao = date(2026, 6, 24)
    assert daily[sao_joao] < 0.5 * daily[weekday < 5].mean()


def test_real_erp_noise(demo: Demo) -> None:
    mv = demo.table("stock_movements")
    n = len(mv)
    dups = mv[mv.duplicated(keep="first")]
    assert 1 <= len(dups) <= 0.002 * n
    assert mv["movement_id"].duplicated().sum() == len(dups)  # only double postings repeat ids
    late = (mv["updated_at"].dt.normalize() - pd.to_datetime(mv["movement_date"])).dt.days
    assert late.min() >= 0 and late.max() <= 10
    assert 0.003 * n <= (late >= 1).sum() <= 0.03 * n
    unknown = ~mv["item_id"].isin(demo.table("items")["item_id"])
    bad_qty = (mv["movement_type"] == "consumption") & (mv["quantity"] <= 0)
    assert unknown.any() and bad_qty.any()
    assert (unknown | bad_qty).sum() <= 0.005 * n
    assert (mv.loc[mv["movement_type"] == "receipt", "quantity"] > 0).all()


def test_5g_share_grows(demo: Demo) -> None:
    tech = demo.table("items").set_index("item_id")["technology"]
    cons = demo.consumption()
    cons = cons.assign(is5g=cons["item_id"].map(tech) == "5G")
    third = pd.qcut(pd.to_datetime(cons["movement_date"]).rank(method="first"), 3, labels=False)
    share = [cons.loc[(third == k) & cons["is5g"], "quantity"].sum() for k in (0, 2)]
    totals = [cons.loc[third == k, "quantity"].sum() for k in (0, 2)]
    assert share[1] / totals[1] > share[0] / totals[0]
    towers = demo.table("towers")
    rollout = towers.loc[towers["technology"] == "5G", "commissioned_at"]
    assert (rollout >= HISTORY_START).mean() > 0.8


def test_towers_are_served_by_the_nearest_depot(demo: Demo) -> None:
    towers, depots = demo.table("towers"), demo.table("depots")
    nearest = bahia.nearest_depot(
        towers["lat"].to_numpy(float),
        towers["lon"].to_numpy(float),
        depots["lat"].to_numpy(float),
        depots["lon"].to_numpy(float),
    )
    assert (depots["depot_id"].to_numpy()[nearest] == towers["depot_id"].to_numpy()).all()
    for t in towers.itertuples():
        m = bahia.municipality(t.municipality)
        assert abs(t.lat - m.lat) < 0.2 and abs(t.lon - m.lon) < 0.2
    assert list(depots["depot_id"]) == [h.depot_id for h in bahia.DEPOT_HUBS[: SMALL.depots]]

    # Consumption goes to a tower of the issuing depot that is in service (5G parts to 5G).
    cons = demo.consumption().merge(
        towers[["tower_id", "depot_id", "technology", "commissioned_at"]],
        on="tower_id",
        suffixes=("", "_tower"),
    )
    tech = demo.table("items").set_index("item_id")["technology"]
    assert len(cons) == len(demo.consumption())
    assert (cons["depot_id"] == cons["depot_id_tower"]).all()
    assert (cons["commissioned_at"] <= cons["movement_date"]).all()
    assert (cons.loc[cons["item_id"].map(tech) == "5G", "technology"] == "5G").all()


def test_snapshots_reconcile_with_movements(demo: Demo) -> None:
    snaps = demo.table("inventory_snapshots")
    assert (snaps["on_hand"] >= 0).all() and (snaps["on_order"] >= 0).all()
    next_day = pd.to_datetime(snaps["snapshot_date"]) + pd.Timedelta(days=1)
    assert ((next_day.dt.day == 1) | (snaps["snapshot_date"] == SMALL.end_date)).all()
    pairs = snaps.groupby(["item_id", "depot_id"]).size()
    assert 0.7 <= len(pairs) / (SMALL.items * SMALL.depots) <= 0.9

    # Stock at each month end = previous month end + receipts - consumption + adjustments.
    mv = demo.table("stock_movements").drop_duplicates()
    valid = mv["item_id"].isin(demo.table("items")["item_id"]) & ~(
        (mv["movement_type"] == "consumption") & (mv["quantity"] <= 0)
    )
    mv = mv[valid]
    sign = np.where(mv["movement_type"] == "consumption", -1, 1)
    mv = mv.assign(delta=sign * mv["quantity"], month=pd.to_datetime(mv["movement_date"]))
    mv["month"] = mv["month"].dt.to_period("M")
    flow = mv.groupby(["item_id", "depot_id", "month"])["delta"].sum()
    snaps = snaps.assign(month=pd.to_datetime(snaps["snapshot_date"]).dt.to_period("M"))
    snaps = snaps.sort_values(["item_id", "depot_id", "month"])
    snaps["prev"] = snaps.groupby(["item_id", "depot_id"])["on_hand"].shift()
    later = snaps.dropna(subset=["prev"]).set_index(["item_id", "depot_id", "month"])
    moved = flow.reindex(later.index, fill_value=0)
    assert (later["prev"] + moved == later["on_hand"]).all()


def test_purchase_orders_explain_on_order_and_receipts(demo: Demo) -> None:
    pos = demo.table("purchase_orders")
    assert pos["po_id"].is_unique
    assert set(pos["status"]) == {"open", "received", "cancelled"}
    assert (pos["quantity"] > 0).all() and pos["external_ref"].isna().all()
    assert (pos["expected_date"] > pos["order_date"]).all()
    received = pos["status"] == "received"
    assert pos.loc[received, "received_date"].notna().all()
    assert pos.loc[~received, "received_date"].isna().all()
    assert (pos.loc[received, "received_date"] >= pos.loc[received, "order_date"]).all()
    items = demo.table("items").set_index("item_id")["supplier_id"]
    assert (pos["supplier_id"] == pos["item_id"].map(items)).all()

    # The open orders of the last day are that day's on_order, pair by pair.
    snaps = demo.table("inventory_snapshots")
    last = snaps[snaps["snapshot_date"] == SMALL.end_date]
    on_order = last.set_index(["item_id", "depot_id"])["on_order"]
    still_open = pos[pos["status"] == "open"].groupby(["item_id", "depot_id"])["quantity"].sum()
    assert still_open.sum() > 0
    both = pd.concat([on_order, still_open], axis=1).fillna(0)
    assert (both["on_order"] == both["quantity"]).all()

    # Every received order is a receipt movement of the same pair, day and quantity.
    mv = demo.table("stock_movements").drop_duplicates()
    receipts = mv[mv["movement_type"] == "receipt"]
    key = ["item_id", "depot_id", "movement_date"]
    got = pos[received].rename(columns={"received_date": "movement_date"})
    assert (
        got.groupby(key)["quantity"].sum().sort_index()
        == receipts.groupby(key)["quantity"].sum().sort_index()
    ).all()


def test_master_data_changes_inside_history(demo: Demo) -> None:
    start = datetime.combine(HISTORY_START, datetime.min.time())
    end = datetime.combine(SMALL.end_date, datetime.max.time())
    for name in TABLES:
        assert (demo.table(name)["updated_at"] <= end).all(), name
    items = demo.table("items")
    assert (items["updated_at"] >= items["created_at"]).all()
    changed = items[(items["updated_at"] > items["created_at"]) & (items["updated_at"] >= start)]
    assert len(changed) >= 1
    towers = demo.table("towers")
    assert (towers["updated_at"] >= start).any()
    assert set(items["technology"]) <= {"4G", "5G", "common"}
    assert items["unit_cost"].max() / items["unit_cost"].min() > 100


def test_bahia_reference_data() -> None:
    codes = [m.ibge_code for m in bahia.MUNICIPALITIES]
    assert len(codes) >= 60 and len(set(codes)) == len(codes)
    for m in bahia.MUNICIPALITIES:
        assert 2_900_000 < m.ibge_code < 3_000_000
        assert -18.4 < m.lat < -8.5 and -46.7 < m.lon < -37.3 and m.population > 0
    hubs = [h.municipality for h in bahia.DEPOT_HUBS]
    assert hubs[:8] == [
        "Salvador",
        "Feira de Santana",
        "Vitória da Conquista",
        "Itabuna",
        "Juazeiro",
        "Barreiras",
        "Teixeira de Freitas",
        "Jequié",
    ]
    salvador, feira = bahia.municipality("Salvador"), bahia.municipality("Feira de Santana")
    km = float(bahia.haversine_km(salvador.lat, salvador.lon, feira.lat, feira.lon))
    assert 85 < km < 100  # ~108 km by road


def test_config_is_validated() -> None:
    with pytest.raises(ValueError):
        DemoConfig(depots=len(bahia.DEPOT_HUBS) + 1)
    with pytest.raises(ValueError):
        DemoConfig(items=0)


def test_true_demand_is_an_evaluation_only_upper_bound_of_consumption() -> None:
    from backend.demo.erp import build_demo_frames, build_demo_frames_with_truth

    frames, truth = build_demo_frames_with_truth(SMALL)
    # the same ERP, byte for byte: recording the asked demand draws no random numbers
    plain = build_demo_frames(SMALL)
    for name in TABLES:
        pd.testing.assert_frame_equal(frames[name], plain[name])
    assert "true_demand" not in frames  # never written to the ERP
    mv = frames["stock_movements"].drop_duplicates()
    cons = mv[(mv["movement_type"] == "consumption") & (mv["quantity"] > 0)]
    cons = cons[cons["item_id"].isin(frames["items"]["item_id"])]
    keys = ["item_id", "depot_id", "movement_date"]
    issued = cons.groupby(keys)["quantity"].sum()
    asked = truth.rename(columns={"demand_date": "movement_date"}).groupby(keys)["quantity"].sum()
    both = pd.concat([issued.rename("issued"), asked.rename("asked")], axis=1).fillna(0)
    # every issue answered a demand, never more than asked; stockouts lost the rest
    assert (both["issued"] <= both["asked"]).all()
    assert both["asked"].sum() > both["issued"].sum()
