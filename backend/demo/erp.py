"""A realistic, deterministic demo ERP for Nova Corrente (telecom tower maintenance in Bahia).

`generate_demo` writes seven tables (suppliers, depots, items, towers, stock_movements,
inventory_snapshots, purchase_orders) to any SQLAlchemy URL. Everything derives from `DemoConfig`, so the
same config gives the same content on every run and on every database.

How the data is made, in short:

* Towers stand in real Bahia municipalities (population-weighted) and are served by the
  nearest regional depot. 5G towers are commissioned progressively through the history.
* Every item x depot series has a demand pattern in the Syntetos-Boylan sense (smooth,
  erratic, intermittent, lumpy): a daily occurrence probability and a size distribution,
  scaled by the towers the depot serves, the rainy season (April-July), weekdays and
  Brazilian/Bahia holidays, storm shocks, a slow random level drift, 5G growth and the
  decline of some 4G parts.
* A day-by-day (s, S) stock simulation, vectorised over all series, caps consumption by
  stock on hand, places orders at the reorder point and receives them after a lead time
  drawn from the supplier; it emits consumption, receipt and adjustment movements, the
  month-end inventory snapshots and the purchase orders behind every receipt (those still
  open on the last day sum to that day's `on_order` per item x depot).
* Real-ERP noise: late postings, double postings (exact duplicate rows), a few invalid
  rows, and master-data updates inside the history.

Demand is calibrated per depot of average size in the configured network (the default:
600 towers over 8 depots), so a small config is a miniature of the company rather than a
handful of towers with almost no demand; within a network, demand scales with the towers
each depot serves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import holidays
import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url

from backend.demo import bahia

ProgressFn = Callable[[str, int], None]

TABLES: tuple[str, ...] = (
    "suppliers",
    "depots",
    "items",
    "towers",
    "stock_movements",
    "inventory_snapshots",
    "purchase_orders",
)

_ID = sa.String(24)


def erp_metadata() -> sa.MetaData:
    """Table definitions of the demo ERP, shared by the generator, the extractor and tests.

    It models a legacy ERP: no foreign keys, and `stock_movements` has no primary key (so
    double postings can exist). Every table has an index on `updated_at` for incremental
    extraction by high-water mark. Timestamps are naive UTC.
    """
    md = sa.MetaData()
    sa.Table(
        "suppliers",
        md,
        sa.Column("supplier_id", _ID, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("state", sa.String(2), nullable=False),
        sa.Column("lead_time_mean_days", sa.Float, nullable=False),
        sa.Column("lead_time_std_days", sa.Float, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Index("ix_suppliers_updated_at", "updated_at"),
    )
    sa.Table(
        "depots",
        md,
        sa.Column("depot_id", _ID, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("municipality", sa.String(80), nullable=False),
        sa.Column("state", sa.String(2), nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Index("ix_depots_updated_at", "updated_at"),
    )
    sa.Table(
        "items",
        md,
        sa.Column("item_id", _ID, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("family", sa.String(32), nullable=False),
        sa.Column("technology", sa.String(8), nullable=False),
        sa.Column("supplier_id", _ID, nullable=False),
        sa.Column("unit_cost", sa.Float, nullable=False),
        sa.Column("lead_time_days", sa.Integer, nullable=False),
        sa.Column("min_order_qty", sa.Integer, nullable=False),
        sa.Column("min_stock", sa.Integer, nullable=False),
        sa.Column("max_stock", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Index("ix_items_updated_at", "updated_at"),
    )
    sa.Table(
        "towers",
        md,
        sa.Column("tower_id", _ID, primary_key=True),
        sa.Column("municipality", sa.String(80), nullable=False),
        sa.Column("state", sa.String(2), nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("depot_id", _ID, nullable=False),
        sa.Column("sla_tier", sa.String(16), nullable=False),
        sa.Column("technology", sa.String(8), nullable=False),
        sa.Column("commissioned_at", sa.Date, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Index("ix_towers_updated_at", "updated_at"),
    )
    sa.Table(
        "stock_movements",
        md,
        sa.Column("movement_id", sa.BigInteger, nullable=False),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("depot_id", _ID, nullable=False),
        sa.Column("tower_id", _ID, nullable=True),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("movement_type", sa.String(16), nullable=False),
        sa.Column("movement_date", sa.Date, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Index("ix_stock_movements_updated_at", "updated_at"),
    )
    sa.Table(
        "inventory_snapshots",
        md,
        sa.Column("item_id", _ID, primary_key=True),
        sa.Column("depot_id", _ID, primary_key=True),
        sa.Column("snapshot_date", sa.Date, primary_key=True),
        sa.Column("on_hand", sa.Integer, nullable=False),
        sa.Column("on_order", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Index("ix_inventory_snapshots_updated_at", "updated_at"),
    )
    sa.Table(
        "purchase_orders",
        md,
        sa.Column("po_id", _ID, primary_key=True),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("depot_id", _ID, nullable=False),
        sa.Column("supplier_id", _ID, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("order_date", sa.Date, nullable=False),
        # the supplier's promise (order date + its mean lead time); receipts vary around it
        sa.Column("expected_date", sa.Date, nullable=False),
        sa.Column("received_date", sa.Date, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),  # open | received | cancelled
        # the planners' workbench order id when the order came from it (none in the demo)
        sa.Column("external_ref", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Index("ix_purchase_orders_updated_at", "updated_at"),
    )
    return md


@dataclass(frozen=True)
class DemoConfig:
    """Size and seed of the demo. History = the `years * 365` days ending at `end_date`."""

    items: int = 2000
    depots: int = 8
    towers: int = 600
    years: int = 3
    end_date: date = date(2026, 10, 31)
    seed: int = 42

    def __post_init__(self) -> None:
        if self.items < 1 or self.towers < 1 or self.years < 1:
            raise ValueError("items, towers and years must be positive")
        if not 1 <= self.depots <= len(bahia.DEPOT_HUBS):
            raise ValueError(f"depots must be between 1 and {len(bahia.DEPOT_HUBS)}")


def generate_demo(
    url: str,
    config: DemoConfig = DemoConfig(),
    *,
    progress: ProgressFn | None = None,
    chunk_rows: int = 200_000,
) -> dict[str, int]:
    """Drop and recreate the ERP tables at `url`, fill them, return the rows per table.

    The big tables stream to the database `chunk_rows` rows at a time: the simulation keeps
    them as compact numeric columns (about 30 bytes a movement) and only the chunk being
    written becomes strings and timestamps. The chunk size never changes the content.

    `progress(table, rows_written)` is called after every chunk, with the cumulative rows
    of that table written so far (the last call per table equals its row count).
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be positive")
    engine = _create_engine(url)
    try:
        claim_for_demo(engine)
        tables = _Generator(config).run()
        _write_all(engine, tables, progress, chunk_rows)
    finally:
        engine.dispose()
    return {name: tables[name].rows for name in TABLES}


# A table that only `nova demo` writes: a database holding tables but not this one was
# not made by the generator, and regenerating would drop someone's ERP.
DEMO_MARKER = "nova_demo_marker"


class NotADemoDatabase(RuntimeError):
    """The target database holds tables that `nova demo` did not create."""


def claim_for_demo(engine: sa.Engine) -> None:
    """Refuse a database with tables but no demo marker; mark an empty one as the demo's.

    The marker is written before the ERP tables (and is not among them, so regenerating
    keeps it): a generation that dies half-way leaves a database `nova demo` may redo.
    """
    existing = set(sa.inspect(engine).get_table_names())
    if existing and DEMO_MARKER not in existing:
        shown = ", ".join(sorted(existing)[:8]) + (" ..." if len(existing) > 8 else "")
        where = engine.url.render_as_string(hide_password=True)
        raise NotADemoDatabase(
            f"{where} already holds tables ({shown}) that `nova demo` did not create: "
            "refusing to overwrite them. Point NOVA_ERP_URL (or --url) at a new or empty "
            "database for the demo; if this database really is disposable, drop its tables "
            "yourself first."
        )
    marker = sa.Table(
        DEMO_MARKER,
        sa.MetaData(),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with engine.begin() as conn:
        marker.create(conn, checkfirst=True)
        if conn.execute(sa.select(sa.func.count()).select_from(marker)).scalar_one() == 0:
            conn.execute(
                marker.insert().values(created_by="nova demo", created_at=datetime.now(UTC))
            )


def build_demo_frames(config: DemoConfig = DemoConfig()) -> dict[str, pd.DataFrame]:
    """All table contents as DataFrames (columns in table order), without touching a database.

    Dates and timestamps are `datetime64[s]` columns (dates at midnight). This holds every
    row as Python objects at once: fine for small configs, not for a x10 demo.
    """
    return {name: table.frame() for name, table in _Generator(config).run().items()}


def build_demo_frames_with_truth(
    config: DemoConfig = DemoConfig(),
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """``build_demo_frames`` plus the true demand behind the recorded consumption.

    The ERP records what was issued; a day without stock issues nothing (or less than was
    asked), so its consumption is censored. The second frame holds every demand occurrence
    as asked (``item_id, depot_id, demand_date, quantity``), met or lost. It is an
    evaluation-only output (the policy benchmark replays it): nothing in the pipeline reads
    it, and it is never written to the ERP database. Same tables, byte for byte, as
    ``build_demo_frames`` (recording the demand draws no extra random numbers).
    """
    gen = _Generator(config, record_truth=True)
    frames = {name: table.frame() for name, table in gen.run().items()}
    return frames, gen.true_demand


# --------------------------------------------------------------------------------------
# Catalogue: families of spare parts for tower maintenance
# --------------------------------------------------------------------------------------

CATEGORIES = ("power", "radio", "transmission", "climate", "structural")
TECHS = ("4G", "5G", "common")

# Extra failures in the April-July rainy season (storms, humidity, lightning), by category.
_RAIN_AMPLITUDE = {
    "power": 0.55,
    "climate": 0.5,
    "structural": 0.4,
    "radio": 0.2,
    "transmission": 0.25,
}
# How much a storm day at a depot multiplies failures, by category.
_STORM_SENSITIVITY = {
    "power": 1.0,
    "climate": 0.5,
    "structural": 0.8,
    "radio": 0.3,
    "transmission": 0.3,
}


@dataclass(frozen=True)
class _Family:
    category: str
    family: str
    weight: float  # share of the catalogue
    cost_median: float  # BRL
    cost_sigma: float  # lognormal spread of unit cost within the family
    tech: tuple[float, float, float]  # P(4G), P(5G), P(common)
    templates: tuple[str, ...]
    options: dict[str, Any]  # placeholder -> list, or dict tech -> list
    consumable: bool = False
    template_cost: tuple[float, ...] = ()  # cost factor per template (default 1)


_FAMILIES: tuple[_Family, ...] = (
    _Family("power", "rectifier", 5, 4800, 0.35, (0, 0.15, 0.85),
            ("Retificador 48V {kw}kW", "Módulo Retificador {kw}kW Hot-Swap"),
            {"kw": ["2", "3", "4", "6"]}),
    _Family("power", "battery", 6, 2200, 0.6, (0, 0.12, 0.88),
            ("Bateria VRLA 12V {ah}Ah", "Banco de Baterias Lítio 48V {ah}Ah"),
            {"ah": ["100", "150", "200"]}, template_cost=(1.0, 6.0)),
    _Family("power", "fuse", 7, 28, 0.5, (0, 0, 1),
            ("Fusível NH{nh} {a}A", "Fusível Cartucho {a}A"),
            {"nh": ["00", "1", "2"], "a": ["32", "63", "100", "125", "160"]}, True),
    _Family("power", "breaker", 6, 190, 0.5, (0, 0, 1),
            ("Disjuntor DC {a}A {p}P", "Disjuntor Termomagnético {a}A"),
            {"a": ["16", "32", "63", "100"], "p": ["1", "2"]}),
    _Family("power", "surge_protector", 3, 650, 0.4, (0, 0, 1),
            ("DPS Classe {cls} {ka}kA",), {"cls": ["I", "II"], "ka": ["20", "40", "60"]}),
    _Family("power", "power_controller", 2, 7500, 0.4, (0, 0.2, 0.8),
            ("Unidade de Supervisão de Energia SCU-{n}",), {"n": ["100", "200", "500"]}),
    _Family("radio", "rru", 4, 42000, 0.35, (0.6, 0.4, 0),
            ("RRU {band} {tech}", "Unidade de Rádio Remota {band} {tech}"),
            {"band": {"4G": ["700MHz", "1800MHz", "2600MHz"], "5G": ["3.5GHz", "2.3GHz"]}}),
    _Family("radio", "baseband_board", 3, 28000, 0.5, (0.5, 0.4, 0.1),
            ("Placa Baseband {tech} {n} Portas",), {"n": ["3", "6", "12"]}),
    _Family("radio", "antenna", 4, 6500, 0.45, (0.45, 0.35, 0.2),
            ("Antena Setorial {band} {gain}dBi", "Antena Multibanda {band} {gain}dBi"),
            {"band": {"4G": ["700-960MHz", "1710-2690MHz"], "5G": ["3.3-3.8GHz"],
                      "common": ["698-2690MHz"]}, "gain": ["15", "17", "18", "21"]}),
    _Family("radio", "jumper", 7, 110, 0.4, (0.2, 0.1, 0.7),
            ("Jumper Coaxial 1/2 pol {m}m", "Jumper Óptico LC-LC {m}m"),
            {"m": ["1", "2", "3", "5", "10"]}, True),
    _Family("radio", "connector", 7, 38, 0.45, (0, 0, 1),
            ("Conector {ct}",), {"ct": ["7/16 DIN Macho", "N Fêmea", "4.3-10 Macho",
                                          "SMA Macho"]}, True),
    _Family("radio", "combiner", 2, 3800, 0.4, (0.5, 0.2, 0.3),
            ("Combinador {band}", "Diplexador {band}"),
            {"band": ["800/1800MHz", "1800/2600MHz", "700/2100MHz"]}),
    _Family("transmission", "sfp", 5, 480, 0.6, (0.35, 0.35, 0.3),
            ("Módulo SFP {speed} {reach}km",),
            {"speed": {"4G": ["1G", "10G"], "5G": ["25G", "10G"], "common": ["1G", "10G"]},
             "reach": ["10", "20", "40"]}),
    _Family("transmission", "microwave_odu", 3, 17500, 0.35, (0.3, 0.3, 0.4),
            ("ODU Micro-ondas {freq}GHz",), {"freq": ["7", "15", "18", "23", "80"]}),
    _Family("transmission", "microwave_idu", 2, 9500, 0.35, (0.3, 0.3, 0.4),
            ("IDU Micro-ondas {n} Portas",), {"n": ["2", "4", "8"]}),
    _Family("transmission", "fiber_patch", 5, 65, 0.4, (0, 0, 1),
            ("Cordão Óptico {ct} {m}m",), {"ct": ["LC-LC", "SC-LC", "LC-FC"],
                                             "m": ["2", "5", "10", "20"]}, True),
    _Family("climate", "air_conditioner", 3, 8500, 0.35, (0, 0, 1),
            ("Ar Condicionado Shelter {btu} BTU",), {"btu": ["12000", "18000", "24000"]}),
    _Family("climate", "fan", 4, 320, 0.4, (0, 0, 1),
            ("Ventilador {mm}mm 48V DC", "Exaustor de Gabinete {mm}mm"),
            {"mm": ["120", "172", "254"]}),
    _Family("climate", "filter", 5, 48, 0.4, (0, 0, 1),
            ("Filtro de Ar {sz}", "Manta Filtrante {sz}"),
            {"sz": ["G3 500x500", "G4 600x400", "F5 400x400"]}, True),
    _Family("climate", "compressor", 2, 2400, 0.35, (0, 0, 1),
            ("Compressor Rotativo {btu} BTU",), {"btu": ["12000", "18000", "24000"]}),
    _Family("structural", "grounding", 4, 160, 0.5, (0, 0, 1),
            ("Haste de Aterramento Cobreada {m}m", "Cabo de Cobre Nu {mm}mm²"),
            {"m": ["2,4", "3,0"], "mm": ["35", "50", "70"]}, True),
    _Family("structural", "lightning_protection", 3, 420, 0.5, (0, 0, 1),
            ("Captor Franklin {tp}", "Para-raios {tp}"),
            {"tp": ["4 Pontas", "Inox", "Cobre Cromado"]}),
    _Family("structural", "cable", 5, 580, 0.6, (0, 0, 1),
            ("Cabo PP {mm}mm² Rolo {m}m", "Cabo Flexível {mm}mm² Rolo {m}m"),
            {"mm": ["2,5", "6", "10", "16", "35"], "m": ["50", "100"]}),
    _Family("structural", "bolt", 7, 4.5, 0.5, (0, 0, 1),
            ("Parafuso Galvanizado M{d}x{l}", "Kit Porca e Arruela M{d}"),
            {"d": ["8", "10", "12", "16"], "l": ["30", "50", "80", "120"]}, True),
    _Family("structural", "aviation_light", 2, 900, 0.35, (0, 0, 1),
            ("Luminária de Balizamento LED {tp}",), {"tp": ["Baixa Intensidade", "Dupla"]}),
)  # fmt: skip

_SUPPLIER_FIRST = (
    "Tele", "Eletro", "Rádio", "Infra", "Volt", "Sinal", "Torre", "Conecta",
    "Clima", "Power", "Fibra", "Rede", "Norte", "Nordeste", "Atlântica", "Vale",
)  # fmt: skip
_SUPPLIER_SECOND = (
    "Tech", "Sistemas", "Componentes", "Distribuidora", "Industrial", "Soluções",
    "Materiais", "Telecom", "Engenharia", "Comercial",
)  # fmt: skip
_SUPPLIER_STATES = ("SP", "BA", "MG", "PR", "RJ", "SC", "AM", "PE")
_SUPPLIER_STATE_P = (0.38, 0.16, 0.1, 0.08, 0.08, 0.07, 0.08, 0.05)

# Work orders by weekday (Mon..Sun): corrective maintenance never stops, but weekends are thin.
_WEEKDAY_ACTIVITY = np.array([1.1, 1.0, 1.0, 1.0, 0.95, 0.4, 0.15])
# Per demand class (rows: smooth, erratic, intermittent, lumpy), the range (low, high) of the
# daily occurrence intensity and of the mean issue size, for a depot of average size.
_CLASS_LAMBDA = np.array([[3.5, 8.0], [3.0, 7.0], [0.006, 0.35], [0.005, 0.2]])
_CLASS_SIZE = np.array([[1.5, 6.0], [2.0, 8.0], [1.0, 2.5], [2.5, 10.0]])

_MOVEMENT_TYPES = ("consumption", "receipt", "adjustment")
_CONSUMPTION, _RECEIPT, _ADJUSTMENT = 0, 1, 2

_FIRST_MOVEMENT_ID = 10_000_001
_LATE_SHARE = 0.01
_DUPLICATE_SHARE = 0.0005
_INVALID_SHARE = 0.0001


# --------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------


def _frame(columns: dict[str, Any]) -> pd.DataFrame:
    """A DataFrame built column by column: no block consolidation, so no full extra copy."""
    n = len(next(iter(columns.values())))
    frame = pd.DataFrame(index=pd.RangeIndex(n))
    for name, values in columns.items():
        frame[name] = values
    return frame


def _dt(day: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Timestamps (datetime64[s]) from dates and seconds after midnight."""
    return day.astype("datetime64[D]").astype("datetime64[s]") + seconds.astype("timedelta64[s]")


@dataclass(frozen=True)
class _Table:
    """One table's rows, turned into a DataFrame one slice ``[lo, hi)`` at a time.

    The big tables keep their rows as compact numpy columns (ints, day numbers, indices
    into the id arrays) and make the object columns (ids, timestamps) only for a slice,
    so writing holds one chunk of Python objects, not millions.
    """

    rows: int
    slice: Callable[[int, int], pd.DataFrame]

    def frame(self) -> pd.DataFrame:
        return self.slice(0, self.rows)

    def chunks(self, size: int) -> Iterator[pd.DataFrame]:
        for lo in range(0, self.rows, size):
            yield self.slice(lo, min(lo + size, self.rows))


def _whole(frame: pd.DataFrame) -> _Table:
    """A small table that is simply held as a DataFrame."""
    return _Table(len(frame), lambda lo, hi: frame.iloc[lo:hi])


def _int_dtype(largest: int) -> type[np.signedinteger[Any]]:
    """The narrowest of int16/int32/int64 that holds ``-largest..largest``."""
    for dtype in (np.int16, np.int32):
        if largest <= np.iinfo(dtype).max:
            return dtype
    return np.int64


class _Generator:
    """Builds every table of one `DemoConfig`, stage by stage, each with its own RNG stream."""

    def __init__(self, cfg: DemoConfig, *, record_truth: bool = False) -> None:
        self.cfg = cfg
        self.record_truth = record_truth
        self.n_days = cfg.years * 365
        self.start = cfg.end_date - timedelta(days=self.n_days - 1)
        self.start64 = np.datetime64(self.start, "D")
        self.days = self.start64 + np.arange(self.n_days)
        self.item_ids = np.array([f"ITM-{k + 1:05d}" for k in range(cfg.items)], dtype=object)
        self.depot_ids = np.array(
            [h.depot_id for h in bahia.DEPOT_HUBS[: cfg.depots]], dtype=object
        )
        # evaluation only (build_demo_frames_with_truth): demand as asked, before stock cuts it
        self.true_demand = pd.DataFrame(columns=["item_id", "depot_id", "demand_date", "quantity"])

    def rng(self, stage: int) -> np.random.Generator:
        # One independent stream per stage: changing one stage never shifts the others.
        return np.random.default_rng([self.cfg.seed, stage])

    def run(self) -> dict[str, _Table]:
        """Every table, in `TABLES` order; all random numbers are drawn before this returns."""
        suppliers = self._suppliers()
        depots = self._depots()
        towers = self._towers(depots)
        items, profile = self._items(suppliers)
        movements, snapshots, orders, policy = self._simulate(profile, towers, suppliers)
        items["min_stock"] = policy["min_stock"]
        items["max_stock"] = policy["max_stock"]
        return {
            "suppliers": _whole(suppliers.drop(columns=["_category"])),
            "depots": _whole(depots),
            "items": _whole(items),
            "towers": _whole(towers.drop(columns=["_comm_idx"])),
            "stock_movements": movements,
            "inventory_snapshots": snapshots,
            "purchase_orders": orders,
        }

    # ---- master data ------------------------------------------------------------------

    def _suppliers(self) -> pd.DataFrame:
        rng = self.rng(1)
        n = max(3, round(self.cfg.items / 50))
        # "Eletro" glues to the next word (Eletrotécnica style); the rest are two words.
        combos = [f"{a}{b.lower()}" if a == "Eletro" else f"{a} {b}"
                  for a in _SUPPLIER_FIRST for b in _SUPPLIER_SECOND]  # fmt: skip
        order = rng.permutation(len(combos))
        kinds = rng.choice(["Ltda", "S.A."], size=n, p=[0.8, 0.2])
        names = []
        for k in range(n):
            base = combos[order[k % len(combos)]]
            suffix = f" {k // len(combos) + 1}" if k >= len(combos) else ""
            names.append(f"{base}{suffix} {kinds[k]}")
        state = rng.choice(_SUPPLIER_STATES, size=n, p=_SUPPLIER_STATE_P)
        # Local suppliers deliver in days, the Manaus free zone in weeks.
        mean = np.exp(rng.normal(math.log(18), 0.45, size=n))
        mean = np.where(state == "BA", rng.uniform(4, 10, size=n), mean)
        mean = np.where(state == "AM", mean * 1.6, mean)
        mean = np.round(np.clip(mean, 3, 75), 1)
        std = np.round(mean * rng.uniform(0.15, 0.45, size=n), 1)
        # Master data last touched before the history; some renegotiated inside it.
        upd_day = self.start64 - rng.integers(30, 900, size=n)
        changed = rng.random(n) < 0.15
        upd_day = np.where(changed, self.start64 + rng.integers(0, self.n_days, size=n), upd_day)
        return pd.DataFrame(
            {
                "supplier_id": [f"SUP-{k + 1:03d}" for k in range(n)],
                "name": names,
                "state": state,
                "lead_time_mean_days": mean,
                "lead_time_std_days": std,
                "updated_at": _dt(upd_day, rng.integers(8 * 3600, 18 * 3600, size=n)),
                # Each supplier specialises in one category; all categories are covered.
                "_category": rng.permutation(np.resize(np.array(CATEGORIES, dtype=object), n)),
            }
        )

    def _depots(self) -> pd.DataFrame:
        hubs = bahia.DEPOT_HUBS[: self.cfg.depots]
        muni = [bahia.municipality(h.municipality) for h in hubs]
        upd = np.datetime64(self.start - timedelta(days=400), "s") + np.timedelta64(9 * 3600, "s")
        return pd.DataFrame(
            {
                "depot_id": [h.depot_id for h in hubs],
                "name": [h.name for h in hubs],
                "municipality": [h.municipality for h in hubs],
                "state": bahia.STATE,
                "lat": [m.lat for m in muni],
                "lon": [m.lon for m in muni],
                "updated_at": np.full(len(hubs), upd),
            }
        )

    def _towers(self, depots: pd.DataFrame) -> pd.DataFrame:
        rng = self.rng(2)
        n = self.cfg.towers
        munis = bahia.MUNICIPALITIES
        pop = np.array([m.population for m in munis], dtype=float)
        # Sublinear weight: the interior needs coverage beyond its population share.
        w = pop**0.75
        m_idx = rng.choice(len(munis), size=n, p=w / w.sum())
        logp = np.log(pop)
        size = ((logp - logp.min()) / (logp.max() - logp.min()))[m_idx]  # 0 small .. 1 capital
        lat = np.array([m.lat for m in munis])[m_idx] + np.clip(rng.normal(0, 0.05, n), -0.15, 0.15)
        lon = np.array([m.lon for m in munis])[m_idx] + np.clip(rng.normal(0, 0.05, n), -0.15, 0.15)
        lat, lon = np.round(lat, 6), np.round(lon, 6)
        d_idx = bahia.nearest_depot(
            lat, lon, depots["lat"].to_numpy(float), depots["lon"].to_numpy(float)
        )

        is5g = rng.random(n) < 0.1 + 0.35 * size
        # 5G rollout through the history, capitals and big cities first.
        frac = rng.random(n) ** (0.5 + 0.8 * size)
        comm_5g = np.floor(frac * (self.n_days - 30)).astype(np.int64) + 15
        # 4G: mostly older sites, a few new ones inside the history.
        new_4g = rng.random(n) < 0.08
        comm_4g = np.where(new_4g, rng.integers(0, self.n_days, n), -rng.integers(60, 4000, n))
        comm = np.where(is5g, comm_5g, comm_4g)

        tier_p = np.stack([0.08 + 0.25 * size, np.full(n, 0.4), 0.52 - 0.25 * size], axis=1)
        tier = np.array([rng.choice(3, p=p) for p in tier_p])
        # A few towers change SLA tier inside the history (contract renegotiation).
        upd_day = np.where(comm < 0, np.maximum(comm, -rng.integers(1, 400, n)), comm)
        changed = rng.random(n) < 0.05
        lo = np.maximum(upd_day + 1, 0)
        change_day = lo + np.floor(rng.random(n) * (self.n_days - lo)).astype(np.int64)
        ok = changed & (lo < self.n_days)
        tier = np.where(ok, (tier + rng.integers(1, 3, n)) % 3, tier)
        upd_day = np.where(ok, change_day, upd_day)

        order = np.lexsort((np.arange(n), comm))  # ids follow commissioning order
        tiers = np.array(["platinum", "gold", "silver"], dtype=object)
        frame = pd.DataFrame(
            {
                "tower_id": [f"TWR-{k + 1:05d}" for k in range(n)],
                "municipality": np.array([m.name for m in munis], dtype=object)[m_idx][order],
                "state": bahia.STATE,
                "lat": lat[order],
                "lon": lon[order],
                "depot_id": depots["depot_id"].to_numpy(object)[d_idx][order],
                "sla_tier": tiers[tier][order],
                "technology": np.where(is5g, "5G", "4G").astype(object)[order],
                "commissioned_at": (self.start64 + comm[order]).astype("datetime64[s]"),
                "updated_at": _dt(
                    self.start64 + upd_day[order], rng.integers(8 * 3600, 18 * 3600, n)
                ),
                "_comm_idx": comm[order],
            }
        )
        return frame

    def _items(self, suppliers: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        rng = self.rng(3)
        n = self.cfg.items
        fams = _FAMILIES
        fw = np.array([f.weight for f in fams], dtype=float)
        f_idx = rng.choice(len(fams), size=n, p=fw / fw.sum())
        tech_idx = np.array([rng.choice(3, p=fams[k].tech) for k in f_idx])
        tech = np.array(TECHS, dtype=object)[tech_idx]
        category = np.array([fams[k].category for k in f_idx], dtype=object)

        names = []
        cost_factor = np.ones(n)
        for i in range(n):
            fam = fams[f_idx[i]]
            fields: dict[str, str] = {"tech": str(tech[i]) if tech[i] != "common" else ""}
            for key, opts in fam.options.items():
                choices = opts.get(tech[i], opts.get("4G", [])) if isinstance(opts, dict) else opts
                choices = choices or next(iter(opts.values()))
                fields[key] = str(choices[rng.integers(len(choices))])
            k = int(rng.integers(len(fam.templates)))
            text = fam.templates[k].format(**fields)
            cost_factor[i] = fam.template_cost[k] if fam.template_cost else 1.0
            letters = "".join(chr(65 + c) for c in rng.integers(0, 26, 2))
            names.append(f"{' '.join(text.split())} Modelo {letters}-{rng.integers(100, 1000)}")

        median = np.array([fams[k].cost_median for k in f_idx], dtype=float) * cost_factor
        sigma = np.array([fams[k].cost_sigma for k in f_idx], dtype=float)
        cost: np.ndarray = median * np.exp(rng.normal(0, sigma)) * np.where(tech == "5G", 1.35, 1.0)
        cost = np.round(np.maximum(cost, 0.5), 2)  # 5G: newer generation, pricier

        # Suppliers specialise: most items come from one of their category's suppliers.
        sup_cat = suppliers["_category"].to_numpy(object)
        sup_idx = np.empty(n, dtype=np.int64)
        for i in range(n):
            own = np.flatnonzero(sup_cat == category[i])
            pool = own if (own.size and rng.random() < 0.85) else np.arange(len(sup_cat))
            sup_idx[i] = pool[rng.integers(pool.size)]
        sup_mean = suppliers["lead_time_mean_days"].to_numpy(float)[sup_idx]
        lead_time = np.maximum(1, np.round(sup_mean + rng.normal(0, 1.0, n))).astype(np.int64)

        moq = np.ones(n, dtype=np.int64)
        for lo, hi, opts in (
            (0, 50, (20, 50, 100)),
            (50, 500, (5, 10, 20)),
            (500, 5000, (1, 2, 5)),
        ):
            m = (cost >= lo) & (cost < hi)
            moq[m] = rng.choice(opts, size=int(m.sum()))

        # Launch dates: 5G parts arrive progressively over the last ~2 years.
        created = self.start64 - rng.integers(30, 2500, n)
        new_sku = rng.random(n) < 0.08
        created = np.where(new_sku, self.start64 + rng.integers(0, self.n_days, n), created)
        end64 = self.days[-1]
        created = np.where(tech == "5G", end64 - rng.integers(30, 730, n), created)
        created_ts = _dt(created, rng.integers(8 * 3600, 18 * 3600, n))
        # A few prices change inside the history (the extractor must pick these up).
        changed = rng.random(n) < 0.04
        lo_day = np.maximum((created - self.start64).astype(np.int64) + 1, 0)
        room = np.maximum(self.n_days - lo_day, 0)
        change_day = self.start64 + lo_day + np.floor(rng.random(n) * room).astype(np.int64)
        ok = changed & (room > 0)
        cost = np.where(ok, np.round(cost * rng.uniform(1.04, 1.25, n), 2), cost)
        updated_ts = np.where(ok, _dt(change_day, rng.integers(8 * 3600, 18 * 3600, n)), created_ts)

        profile = self._demand_profile(rng, f_idx, cost, tech)
        profile["created_day"] = (created - self.start64).astype(np.int64)
        profile["supplier_idx"] = sup_idx
        profile["moq"] = moq
        frame = pd.DataFrame(
            {
                "item_id": self.item_ids,
                "name": names,
                "category": category,
                "family": np.array([fams[k].family for k in f_idx], dtype=object),
                "technology": tech,
                "supplier_id": suppliers["supplier_id"].to_numpy(object)[sup_idx],
                "unit_cost": cost,
                "lead_time_days": lead_time,
                "min_order_qty": moq,
                "min_stock": np.zeros(n, dtype=np.int64),
                "max_stock": np.zeros(n, dtype=np.int64),
                "created_at": created_ts,
                "updated_at": updated_ts.astype("datetime64[s]"),
            }
        )
        return frame, profile

    def _demand_profile(
        self, rng: np.random.Generator, f_idx: np.ndarray, cost: np.ndarray, tech: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Per-item demand pattern for a depot of average size (Syntetos-Boylan classes)."""
        n = f_idx.size
        consumable = np.array([_FAMILIES[k].consumable for k in f_idx])
        # Consumables fail/are used steadily; expensive modules fail rarely and in bursts.
        p = np.where(
            consumable[:, None],
            np.array([0.27, 0.16, 0.35, 0.22]),
            np.array([0.05, 0.04, 0.52, 0.39]),
        )
        p = np.where((cost > 10_000)[:, None], np.array([0.0, 0.0, 0.55, 0.45]), p)
        cls = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
        cls = np.minimum(cls, 3)

        # Occurrence intensity (per day, average depot) and mean size by class: smooth and
        # erratic series issue almost daily, intermittent and lumpy ones rarely.
        lo, hi = _CLASS_LAMBDA[cls, 0], _CLASS_LAMBDA[cls, 1]
        # Log-scale draw skewed to the low end: many slow movers, a tail of faster ones.
        lam = np.exp(np.log(lo) + np.log(hi / lo) * rng.random(n) ** np.where(cls <= 1, 1.0, 1.4))
        mu = rng.uniform(_CLASS_SIZE[cls, 0], _CLASS_SIZE[cls, 1])
        # Nobody swaps eight radios at once: big-ticket parts come one or two at a time.
        mu = np.where(cost > 10_000, 1 + (mu - 1) * 0.2, mu)
        mu = np.where((cost > 1_000) & (cost <= 10_000), 1 + (mu - 1) * 0.5, mu)
        # Erratic and lumpy sizes are lognormal with a high spread (CV^2 well above 0.49).
        size_sigma = np.where(cls % 2 == 1, rng.uniform(0.9, 1.3, n), 0.0)
        # How a depot's size (towers served) splits between how often and how much: steady
        # consumables go out on nearly every work order, so a bigger depot issues bigger
        # quantities; rare failures mostly become more frequent with more towers.
        occ_exp = np.where(cls <= 1, 0.3, 1.0)
        size_exp = np.where(cls <= 1, 0.7, 0.3)
        # Some 4G parts are slowly phased out.
        decline = np.where((tech == "4G") & (rng.random(n) < 0.4), rng.uniform(0.2, 0.5, n), 0.0)
        category = np.array([CATEGORIES.index(_FAMILIES[k].category) for k in f_idx])
        return {
            "cls": cls,
            "lam": lam,
            "mu": mu,
            "size_sigma": size_sigma,
            "occ_exp": occ_exp,
            "size_exp": size_exp,
            "decline": decline,
            "category": category,
            "is5g": tech == "5G",
            "cost": cost,
        }

    # ---- calendar ----------------------------------------------------------------------

    def _calendar(self) -> tuple[np.ndarray, np.ndarray]:
        """(activity factor per day, rainy-season intensity 0..1 per day)."""
        years = range(self.start.year, self.cfg.end_date.year + 1)
        public = holidays.Brazil(subdiv="BA", years=years, language="en_US")
        optional = holidays.Brazil(
            subdiv="BA", years=years, categories=("optional",), language="en_US"
        )
        special: dict[date, float] = dict.fromkeys(public, 0.2)
        for name, factor in (
            ("Carnival", 0.15),
            ("Ash Wednesday", 0.6),
            ("Corpus Christi", 0.4),
            ("Christmas Eve", 0.4),
            ("New Year's Eve", 0.4),
        ):
            for d in optional.get_named(name, lookup="exact"):
                special[d] = min(special.get(d, 1.0), factor)
        for y in years:  # São João: the biggest popular feast of the Northeast
            special[date(y, 6, 24)] = 0.15
            special[date(y, 6, 23)] = min(special.get(date(y, 6, 23), 1.0), 0.5)

        weekday = (self.days.astype("datetime64[D]").view("int64") - 4) % 7  # 0 = Monday
        factor = _WEEKDAY_ACTIVITY[weekday]
        for d, f in special.items():
            k = (np.datetime64(d, "D") - self.start64).astype(int)
            if 0 <= k < self.n_days:
                factor[k] = min(factor[k], f)

        doy = (self.days - self.days.astype("datetime64[Y]")).astype(int) + 1
        rain = np.clip(np.sin(np.pi * (doy - 75) / 150), 0, 1) * ((doy >= 75) & (doy <= 225))
        return factor, rain

    # ---- stock simulation -------------------------------------------------------------

    def _simulate(
        self,
        prof: dict[str, np.ndarray],
        towers: pd.DataFrame,
        suppliers: pd.DataFrame,
    ) -> tuple[_Table, _Table, _Table, dict[str, np.ndarray]]:
        rng = self.rng(4)
        cfg, T = self.cfg, self.n_days
        n_items, n_dep = cfg.items, cfg.depots
        dep_ids = self.depot_ids

        # Installed base per depot and day: all towers, and 5G towers.
        t_dep = pd.Index(dep_ids).get_indexer(pd.Index(towers["depot_id"]))
        comm = towers["_comm_idx"].to_numpy(np.int64)
        t5g = towers["technology"].to_numpy(object) == "5G"
        day_idx = np.arange(T)
        base_all = np.zeros((n_dep, T))
        base_5g = np.zeros((n_dep, T))
        for j in range(n_dep):
            mine = t_dep == j
            base_all[j] = np.searchsorted(np.sort(comm[mine]), day_idx, side="right")
            base_5g[j] = np.searchsorted(np.sort(comm[mine & t5g]), day_idx, side="right")
        ref_all = max(base_all[:, -1].mean(), 1e-9)
        ref_5g = max(base_5g[:, -1].mean(), 1e-9)

        # Which depots stock which item: cheap parts everywhere, expensive ones centrally.
        cost = prof["cost"]
        p_item = np.select([cost < 100, cost < 1000, cost < 10_000], [0.97, 0.9, 0.75], 0.55)
        dep_rank = np.argsort(np.argsort(-base_all[:, -1]))  # 0 = biggest depot
        p_dep = 1.0 - 0.15 * dep_rank / max(n_dep - 1, 1)
        stocked = rng.random((n_items, n_dep)) < p_item[:, None] * p_dep[None, :]
        # No 5G parts where no 5G tower will ever stand.
        has5g = base_5g[:, -1] > 0
        if has5g.any():
            stocked[prof["is5g"]] &= has5g[None, :]
        home = np.where(
            prof["is5g"] & has5g.any(), np.argmax(base_5g[:, -1]), np.argmax(dep_rank == 0)
        )
        stocked[np.arange(n_items), home] = True
        pi, pj = np.nonzero(stocked)  # pairs, item-major order
        P = pi.size

        lam, mu = prof["lam"][pi], prof["mu"][pi]
        size_sigma = prof["size_sigma"][pi]
        occ_exp, size_exp = prof["occ_exp"][pi], prof["size_exp"][pi]
        cat = prof["category"][pi]
        is5g = prof["is5g"][pi]
        decline = prof["decline"][pi]
        start_idx = np.maximum(prof["created_day"][pi], 0)

        # Demand scale of each pair over time = its depot's installed base vs an average depot.
        scale_all = base_all / ref_all
        scale_5g = base_5g / ref_5g

        activity, rain = self._calendar()
        rain_amp = np.array([_RAIN_AMPLITUDE[c] for c in CATEGORIES])[cat]
        storm_sens = np.array([_STORM_SENSITIVITY[c] for c in CATEGORIES])[cat]
        # Storm days per depot: frequent in the rainy season.
        storm = rng.random((n_dep, T)) < 0.004 + 0.03 * rain[None, :]
        storm_mult = np.where(storm, rng.uniform(1.8, 3.5, (n_dep, T)), 1.0)

        # Reorder policy per pair, from its expected demand at the end of the history.
        sup = prof["supplier_idx"][pi]
        lt_mean = suppliers["lead_time_mean_days"].to_numpy(float)[sup]
        lt_std = suppliers["lead_time_std_days"].to_numpy(float)[sup]
        end_scale = np.where(is5g, scale_5g[pj, -1], scale_all[pj, -1])
        min_p, max_p = _policy(
            lam, mu, size_sigma, end_scale**occ_exp, end_scale**size_exp, lt_mean, prof["moq"][pi]
        )
        # The item master carries the policy of a depot of average size.
        ones = np.ones(n_items)
        item_lt = suppliers["lead_time_mean_days"].to_numpy(float)[prof["supplier_idx"]]
        item_min, item_max = _policy(
            prof["lam"], prof["mu"], prof["size_sigma"], ones, ones, item_lt, prof["moq"]
        )
        moq = prof["moq"][pi]

        on_hand = np.zeros(P, dtype=np.int64)
        at_start = start_idx == 0
        on_hand[at_start] = np.round(max_p[at_start] * rng.uniform(0.6, 1.0, int(at_start.sum())))
        on_order = np.zeros(P, dtype=np.int64)
        arrivals: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        # Every order placed, as (pairs, qty, order day, arrival day): the purchase orders.
        placed: list[tuple[np.ndarray, np.ndarray, int, np.ndarray]] = []
        # New pairs open with a first stocking receipt.
        for t in np.unique(start_idx[~at_start]):
            idx = np.flatnonzero(start_idx == t)
            arrivals.setdefault(int(t), []).append((idx, max_p[idx].copy()))
            on_order[idx] += max_p[idx]
            placed.append((idx, max_p[idx].copy(), 0, np.full(idx.size, int(t), np.int64)))

        noise = rng.normal(0, 0.06 / math.sqrt(1 - 0.97**2), P)
        months = self.days.astype("datetime64[M]")
        snap_days = set(np.flatnonzero(months[:-1] != months[1:]).tolist()) | {T - 1}
        count_day = {int(k) for k in np.flatnonzero(
            (self.days.astype("datetime64[D]") - self.days.astype("datetime64[Y]")).astype(int)
            == 348  # mid-December stock count
        )}  # fmt: skip

        # What the days emit, kept compact (int32 pairs and quantities): at x10 the movements
        # alone are ~30M rows, and int64 arrays plus frames of them would not fit.
        mv: list[tuple[np.ndarray, np.ndarray, int, int]] = []  # (pairs, qty, type, day)
        asked: list[tuple[np.ndarray, np.ndarray, int]] = []  # true demand (pairs, qty, day)
        snaps: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
        for t in range(T):
            active = start_idx <= t
            for idx, qty in arrivals.pop(t, []):
                np.add.at(on_hand, idx, qty)
                np.add.at(on_order, idx, -qty)
                mv.append((idx.astype(np.int32), qty.astype(np.int32), _RECEIPT, t))

            noise = 0.97 * noise + rng.normal(0, 0.06, P)
            scale = np.where(is5g, scale_5g[pj, t], scale_all[pj, t])
            trend = 1.0 - decline * (t / T)
            season = 1.0 + rain_amp * rain[t]
            storms = 1.0 + (storm_mult[pj, t] - 1.0) * storm_sens
            level = scale**occ_exp * season * trend * np.exp(noise)
            p_occ = _occurrence(lam * level * storms, activity[t])
            occurs = active & (rng.random(P) < p_occ)
            idx = np.flatnonzero(occurs)
            if idx.size:
                m_eff = 1.0 + (mu[idx] - 1.0) * (scale[idx] * season[idx]) ** size_exp[idx]
                sig = size_sigma[idx]
                ln = rng.lognormal(np.log(m_eff) - sig**2 / 2, np.maximum(sig, 1e-9))
                po = 1 + rng.poisson(np.maximum(m_eff - 1.0, 0.0))
                want = np.where(sig > 0, np.maximum(1, np.round(ln)), po).astype(np.int64)
                if self.record_truth:  # evaluation only: never needed to write the ERP
                    asked.append((idx, want, t))
                got = np.minimum(want, on_hand[idx])  # no stock, no issue: a stockout
                ok = got > 0
                idx, got = idx[ok], got[ok]
                on_hand[idx] -= got
                mv.append((idx.astype(np.int32), got.astype(np.int32), _CONSUMPTION, t))

            # Rare adjustments (cycle counts, damage, found stock); a yearly count in December.
            p_adj = 0.02 if t in count_day else 0.0004
            adj = np.flatnonzero(active & (rng.random(P) < p_adj))
            if adj.size:
                mag = 1 + rng.poisson(np.sqrt(mu[adj]) - 0.5)
                neg = (rng.random(adj.size) < 0.6) & (on_hand[adj] > 0)
                q = np.where(neg, -np.minimum(mag, on_hand[adj]), mag)
                on_hand[adj] += q
                mv.append((adj.astype(np.int32), q.astype(np.int32), _ADJUSTMENT, t))

            position = on_hand + on_order
            need = np.flatnonzero(active & (position <= min_p))
            if need.size:
                qty = np.maximum(max_p[need] - position[need], moq[need])
                lead = np.maximum(1, np.round(rng.normal(lt_mean[need], lt_std[need])))
                arrive = t + lead.astype(np.int64)
                wd = (self.start64 + arrive).astype("datetime64[D]").view("int64") - 4
                arrive += np.select([wd % 7 == 5, wd % 7 == 6], [2, 1], 0)  # no weekend deliveries
                on_order[need] += qty
                placed.append((need, qty, t, arrive))
                for a in np.unique(arrive):
                    sel = arrive == a
                    arrivals.setdefault(int(a), []).append((need[sel], qty[sel]))

            if t in snap_days:
                idx = np.flatnonzero(active)
                snaps.append(
                    (
                        idx.astype(np.int32),
                        t,
                        on_hand[idx].astype(np.int32),
                        on_order[idx].astype(np.int32),
                    )
                )

        if asked:
            a_pair = np.concatenate([a[0] for a in asked])
            self.true_demand = _frame(
                {
                    "item_id": self.item_ids[pi[a_pair]],
                    "depot_id": self.depot_ids[pj[a_pair]],
                    "demand_date": (
                        self.start64 + np.concatenate([np.full(a[0].size, a[2]) for a in asked])
                    ).astype("datetime64[s]"),
                    "quantity": np.concatenate([a[1] for a in asked]).astype(np.int64),
                }
            )
        day_t = _int_dtype(T)
        mv = mv or [(np.zeros(0, np.int32), np.zeros(0, np.int32), _RECEIPT, 0)]
        pair = np.concatenate([m[0] for m in mv])
        qty = np.concatenate([m[1] for m in mv])
        kind = np.concatenate([np.full(m[0].size, m[2], np.int8) for m in mv])
        day = np.concatenate([np.full(m[0].size, m[3], day_t) for m in mv])
        del mv  # the concatenated columns replace the per-day pieces
        movements = self._movement_table(rng, pair, qty, kind, day, pi, pj, towers, t_dep, is5g)
        del pair, qty, kind, day
        snapshots = self._snapshot_table(rng, snaps, pi, pj)
        orders = self._purchase_order_table(
            placed, pi, pj, prof["supplier_idx"], lt_mean, suppliers
        )
        return movements, snapshots, orders, {"min_stock": item_min, "max_stock": item_max}

    def _movement_table(
        self,
        rng: np.random.Generator,
        pair: np.ndarray,
        qty: np.ndarray,
        kind: np.ndarray,
        day: np.ndarray,
        pi: np.ndarray,
        pj: np.ndarray,
        towers: pd.DataFrame,
        t_dep: np.ndarray,
        is5g_pair: np.ndarray,
    ) -> _Table:
        """Stock movements from the simulation's (pair, qty, type, day) rows, in posting order.

        Every random number is drawn here, over all rows at once and in a fixed order (the
        streams' draw order is what makes the data reproducible), and the rows are kept as
        compact columns; `_Table.slice` builds the ids and timestamps of a chunk.
        """
        tower = self._pick_towers(rng, pair, day, kind, pj, towers, t_dep, is5g_pair)

        # Invalid rows to exercise the quarantine: copies of real consumptions with a
        # non-positive quantity or a mistyped item id.
        cons = np.flatnonzero(kind == _CONSUMPTION)
        n_bad = min(max(2, round(pair.size * _INVALID_SHARE)), cons.size)  # both kinds
        tpl = np.sort(rng.choice(cons, size=n_bad, replace=False))
        del cons
        bad_qty = np.arange(n_bad) % 2 == 0
        bad = np.where(bad_qty, rng.choice([0, -1, -2], n_bad), qty[tpl]).astype(qty.dtype)
        qty = np.concatenate([qty, bad])
        pair, tower, kind, day = (np.concatenate([a, a[tpl]]) for a in (pair, tower, kind, day))
        n = pair.size
        typo = np.zeros(n, dtype=bool)
        typo[n - n_bad + np.flatnonzero(~bad_qty)] = True

        # Posting time: working hours; receipts in office hours; ~1% posted days late.
        office = rng.integers(8 * 3600, 17 * 3600, n).astype(np.int32)
        secs = rng.integers(7 * 3600, 18 * 3600, n).astype(np.int32)
        secs = np.where(kind == _RECEIPT, office, secs)
        del office
        late = rng.random(n) < _LATE_SHARE
        delay = rng.integers(1, 11, n)
        np.minimum(delay, self.n_days - 1 - day, out=delay)
        # Seconds from the first day's midnight (the timestamps' order), computed in place:
        # at x10 every temporary over all rows costs a quarter of a GB.
        posted = day.astype(np.int64)
        posted[late] += delay[late]
        del late, delay
        posted *= 86_400
        posted += secs
        del secs
        posted = posted.astype(_int_dtype((self.n_days + 1) * 86_400))

        # ERP ids follow posting order. Double postings: a few rows exist twice, identical
        # in every column (same id), right after the original.
        order = np.lexsort((pi.astype(np.int32)[pair], kind, posted)).astype(np.int32)
        counts = np.ones(n, dtype=np.int8)
        counts[rng.choice(n, size=max(1, round(n * _DUPLICATE_SHARE)), replace=False)] = 2
        rank = np.repeat(np.arange(n, dtype=np.int32), counts)  # id - first id, per row
        del counts

        tower_ids = np.array([*towers["tower_id"], None], dtype=object)  # last = no tower
        types = np.array(_MOVEMENT_TYPES, dtype=object)
        first_second = self.start64.astype("datetime64[s]")

        def rows(lo: int, hi: int) -> pd.DataFrame:
            k = rank[lo:hi]
            r = order[k]
            p = pair[r]
            item_str = self.item_ids[pi[p]]
            mistyped = typo[r]
            if mistyped.any():
                item_str[mistyped] = [_unknown_item_id(str(x)) for x in item_str[mistyped]]
            return _frame(
                {
                    "movement_id": _FIRST_MOVEMENT_ID + k.astype(np.int64),
                    "item_id": item_str,
                    "depot_id": self.depot_ids[pj[p]],
                    "tower_id": tower_ids[tower[r]],
                    "quantity": qty[r].astype(np.int64),
                    "movement_type": types[kind[r]],
                    "movement_date": (self.start64 + day[r]).astype("datetime64[s]"),
                    "updated_at": first_second + posted[r].astype("timedelta64[s]"),
                }
            )

        return _Table(rank.size, rows)

    def _pick_towers(
        self,
        rng: np.random.Generator,
        pair: np.ndarray,
        day: np.ndarray,
        kind: np.ndarray,
        pj: np.ndarray,
        towers: pd.DataFrame,
        t_dep: np.ndarray,
        is5g_pair: np.ndarray,
    ) -> np.ndarray:
        """A tower of the depot, in service that day (5G parts go to 5G towers).

        Returns positions in `towers` (int32); `len(towers)` stands for no tower (receipts).
        """
        none = len(towers)
        out = np.full(pair.size, none, dtype=np.int32)
        comm = towers["_comm_idx"].to_numpy(np.int64)
        t5g = towers["technology"].to_numpy(object) == "5G"
        cons = kind == _CONSUMPTION
        dep = pj.astype(np.int16)[pair]
        want = is5g_pair[pair]
        u = rng.random(pair.size)
        for j in range(self.cfg.depots):
            mine = cons & (dep == j)
            for want5g in (False, True):
                rows = np.flatnonzero(mine & (want == want5g))
                if not rows.size:
                    continue
                cand = np.flatnonzero((t_dep == j) & (t5g if want5g else True))
                if not cand.size:
                    cand = np.flatnonzero(t_dep == j)
                if not cand.size:
                    continue
                cand = cand[np.argsort(comm[cand], kind="stable")]
                in_service = np.searchsorted(comm[cand], day[rows], side="right")
                # (Nothing in service yet cannot happen with demand, which follows the
                # installed base; fall back to any tower of the depot all the same.)
                pool = np.where(in_service > 0, in_service, cand.size)
                out[rows] = cand[np.minimum((u[rows] * pool).astype(np.int64), cand.size - 1)]
        return out

    def _purchase_order_table(
        self,
        placed: list[tuple[np.ndarray, np.ndarray, int, np.ndarray]],
        pi: np.ndarray,
        pj: np.ndarray,
        item_supplier: np.ndarray,
        lt_mean: np.ndarray,
        suppliers: pd.DataFrame,
    ) -> _Table:
        """One purchase order per order the simulation placed, plus a few cancelled ones.

        An order is received on its arrival day when that falls inside the history, else
        still open; so the open orders of the last day are exactly its `on_order`. The
        expected date is the supplier's promise (order day + its mean lead time), which the
        actual arrival misses either way. Cancelled orders never affected the stock: they
        come from their own RNG stream, so adding them shifts nothing else.
        """
        rng = self.rng(5)
        T = self.n_days
        placed = placed or [
            (np.zeros(0, np.int64), np.zeros(0, np.int64), 0, np.zeros(0, np.int64))
        ]
        pair = np.concatenate([p[0] for p in placed]).astype(np.int64)
        qty = np.concatenate([p[1] for p in placed]).astype(np.int64)
        ordered = np.concatenate([np.full(p[0].size, p[2], np.int64) for p in placed])
        arrive = np.concatenate([p[3] for p in placed]).astype(np.int64)
        promised = ordered + np.maximum(1, np.round(lt_mean[pair])).astype(np.int64)
        received = arrive <= T - 1
        status = np.where(received, "received", "open").astype(object)

        # About 2% of orders were raised and then cancelled (duplicates, supplier out of
        # stock): copies of real orders that never arrived.
        n_cancel = round(pair.size * 0.02)
        tpl = np.sort(rng.choice(pair.size, size=n_cancel, replace=False))
        cancel_delay = rng.integers(1, 6, n_cancel)
        last_change = np.concatenate(
            [np.where(received, arrive, ordered), np.minimum(ordered[tpl] + cancel_delay, T - 1)]
        )
        received_day = np.concatenate([np.where(received, arrive, -1), np.full(n_cancel, -1)])
        pair = np.concatenate([pair, pair[tpl]])
        qty = np.concatenate([qty, qty[tpl]])
        ordered = np.concatenate([ordered, ordered[tpl]])
        promised = np.concatenate([promised, promised[tpl]])
        status = np.concatenate([status, np.full(n_cancel, "cancelled", object)])

        order = np.lexsort((pj[pair], pi[pair], ordered))  # PO numbers follow order dates
        pair, qty, ordered, promised = pair[order], qty[order], ordered[order], promised[order]
        status, last_change, received_day = status[order], last_change[order], received_day[order]
        secs = rng.integers(8 * 3600, 18 * 3600, pair.size)
        supplier_ids = suppliers["supplier_id"].to_numpy(object)

        def rows(lo: int, hi: int) -> pd.DataFrame:
            s = slice(lo, hi)
            p, got = pair[s], received_day[s]
            received_dates = (self.start64 + np.maximum(got, 0)).astype("datetime64[s]")
            return _frame(
                {
                    "po_id": np.array([f"PO-{k + 1:07d}" for k in range(lo, hi)], dtype=object),
                    "item_id": self.item_ids[pi[p]],
                    "depot_id": self.depot_ids[pj[p]],
                    "supplier_id": supplier_ids[item_supplier[pi[p]]],
                    "quantity": qty[s],
                    "order_date": (self.start64 + ordered[s]).astype("datetime64[s]"),
                    "expected_date": (self.start64 + promised[s]).astype("datetime64[s]"),
                    "received_date": np.where(got >= 0, received_dates, np.datetime64("NaT", "s")),
                    "status": status[s],
                    "external_ref": np.full(hi - lo, None, dtype=object),
                    "updated_at": _dt(self.start64 + last_change[s], secs[s]),
                }
            )

        return _Table(pair.size, rows)

    def _snapshot_table(
        self,
        rng: np.random.Generator,
        snaps: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]],
        pi: np.ndarray,
        pj: np.ndarray,
    ) -> _Table:
        idx = np.concatenate([s[0] for s in snaps])
        day = np.concatenate([np.full(s[0].size, s[1], _int_dtype(self.n_days)) for s in snaps])
        on_hand = np.concatenate([s[2] for s in snaps])
        on_order = np.concatenate([s[3] for s in snaps])
        # The nightly stock job writes the snapshot shortly before midnight.
        secs = rng.integers(23 * 3600, 23 * 3600 + 3000, idx.size).astype(np.int32)

        def rows(lo: int, hi: int) -> pd.DataFrame:
            i = idx[lo:hi]
            snap_date = self.start64 + day[lo:hi]
            return pd.DataFrame(
                {
                    "item_id": self.item_ids[pi[i]],
                    "depot_id": self.depot_ids[pj[i]],
                    "snapshot_date": snap_date.astype("datetime64[s]"),
                    "on_hand": on_hand[lo:hi].astype(np.int64),
                    "on_order": on_order[lo:hi].astype(np.int64),
                    "updated_at": _dt(snap_date, secs[lo:hi]),
                }
            )

        return _Table(idx.size, rows)


def _occurrence(rate: np.ndarray, activity: np.ndarray | float) -> np.ndarray:
    """Probability of at least one issue on a day with this activity level (1 = weekday).

    A quiet day (weekend, holiday) both thins the work orders and closes the counter part
    of the day, so even parts issued on every working day are often not issued then; rare
    failures stay proportional to the activity level.
    """
    gate = np.minimum(activity, 1.0) ** 0.6
    return np.asarray(gate * -np.expm1(-rate * activity / gate))


def _policy(
    lam: np.ndarray,
    mu: np.ndarray,
    size_sigma: np.ndarray,
    occ_scale: np.ndarray,
    size_scale: np.ndarray,
    lead_time: np.ndarray,
    moq: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) stock: cover lead-time demand at ~95% service, then about a month more."""
    p = _occurrence((lam * occ_scale)[:, None], _WEEKDAY_ACTIVITY[None, :]).mean(axis=1)
    m = 1.0 + (mu - 1.0) * size_scale
    var_size = np.where(size_sigma > 0, (np.exp(size_sigma**2) - 1) * m**2, m - 1.0)
    mean_d = p * m
    var_d = p * (var_size + m**2) - mean_d**2
    min_s = np.ceil(mean_d * lead_time + 1.65 * np.sqrt(np.maximum(var_d, 0) * lead_time))
    max_s = min_s + np.maximum(np.ceil(mean_d * 30), moq)
    min_s = np.maximum(min_s, 1).astype(np.int64)
    return min_s, np.maximum(max_s, min_s + 1).astype(np.int64)


def _unknown_item_id(real_id: str) -> str:
    """A plausible typo of a real id (letter O for zero), so it matches no item."""
    return real_id.replace("0", "O", 1) if "0" in real_id else real_id + "X"


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def _create_engine(url: str) -> sa.Engine:
    parsed = make_url(url)
    database = str(parsed.database or "")
    in_memory = database in ("", ":memory:") or database.startswith("file:")
    if parsed.get_backend_name() == "sqlite" and not in_memory:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(url)


def _write_all(
    engine: sa.Engine,
    tables: dict[str, _Table],
    progress: ProgressFn | None,
    chunk_rows: int,
) -> None:
    md = erp_metadata()
    dialect = engine.dialect
    if dialect.name == "sqlite":
        write_chunk = _sqlite_chunk
    elif dialect.name == "postgresql" and dialect.driver == "psycopg":
        write_chunk = _postgres_chunk
    else:
        write_chunk = _generic_chunk
    with engine.begin() as conn:  # one transaction: readers never see a half-written ERP
        if dialect.name == "sqlite":
            # A failed load is simply regenerated, so the rollback journal buys nothing.
            conn.exec_driver_sql("PRAGMA journal_mode=OFF")
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
        md.drop_all(conn)
        md.create_all(conn)
        for name in TABLES:
            table = md.tables[name]
            columns = [c.name for c in table.columns]
            written = 0
            if progress:
                progress(name, 0)
            for chunk in tables[name].chunks(chunk_rows):
                write_chunk(conn, table, chunk[columns])
                written += len(chunk)
                if progress:
                    progress(name, written)
    if dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
            conn.exec_driver_sql("PRAGMA synchronous=FULL")


def _sqlite_chunk(conn: Connection, table: sa.Table, chunk: pd.DataFrame) -> None:
    """executemany on the raw connection: SQLAlchemy's per-row processing is the bottleneck."""
    columns: list[list[Any]] = []
    for col in table.columns:
        values = chunk[col.name].to_numpy()
        if isinstance(col.type, sa.Date):
            days = values.astype("datetime64[D]")
            text = np.datetime_as_string(days).astype(object)
            text[np.isnat(days)] = None  # a nullable date (an open order's received_date)
            columns.append(text.tolist())
        elif isinstance(col.type, sa.DateTime):
            # Exactly SQLAlchemy's SQLite format ("YYYY-MM-DD HH:MM:SS.ffffff"): values are
            # stored as text, and high-water-mark filters compare them as strings.
            text = np.datetime_as_string(values.astype("datetime64[us]")).astype("S26")
            text.view(np.uint8).reshape(-1, 26)[:, 10] = ord(" ")
            columns.append(text.astype("U26").tolist())
        else:
            columns.append(values.tolist())
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    marks = ", ".join("?" * len(table.columns))
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cur.executemany(
        f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', zip(*columns, strict=True)
    )
    cur.close()


def _postgres_chunk(conn: Connection, table: sa.Table, chunk: pd.DataFrame) -> None:
    """Binary COPY through psycopg: executemany of millions of rows is far too slow."""
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    sql = f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT BINARY)'
    rows = zip(*_python_columns(table, chunk), strict=True)
    with conn.connection.driver_connection.cursor() as cur, cur.copy(sql) as copy:  # type: ignore[union-attr]
        copy.set_types([_pg_type(c.type) for c in table.columns])
        for row in rows:
            copy.write_row(row)


def _pg_type(type_: Any) -> str:
    for sa_type, pg in (
        (sa.BigInteger, "int8"),
        (sa.Integer, "int4"),
        (sa.Float, "float8"),
        (sa.DateTime, "timestamp"),
        (sa.Date, "date"),
        (sa.String, "text"),
    ):
        if isinstance(type_, sa_type):
            return pg
    raise TypeError(f"no COPY type for {type_!r}")


def _generic_chunk(conn: Connection, table: sa.Table, chunk: pd.DataFrame) -> None:
    """Any other database: plain SQLAlchemy executemany with Python values."""
    names = [c.name for c in table.columns]
    rows = zip(*_python_columns(table, chunk), strict=True)
    conn.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])


def _python_columns(table: sa.Table, chunk: pd.DataFrame) -> list[list[Any]]:
    """Column values as lists of Python objects (int, float, str, None, date, datetime)."""
    columns: list[list[Any]] = []
    for col in table.columns:
        values = chunk[col.name].to_numpy()
        if isinstance(col.type, sa.Date):
            columns.append(values.astype("datetime64[D]").astype(object).tolist())
        elif isinstance(col.type, sa.DateTime):
            columns.append(values.astype("datetime64[us]").astype(object).tolist())
        else:
            columns.append(values.tolist())
    return columns
