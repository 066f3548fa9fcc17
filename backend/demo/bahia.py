"""Real geography of Bahia used by the demo ERP: municipalities and regional depot hubs.

Coordinates are the municipal seats (IBGE codes and positions as published in the IBGE
municipal register); populations are rounded figures of the 2022 Census, precise enough to
weight where towers stand. Names keep their Portuguese spelling because they are ERP content.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STATE = "BA"
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Municipality:
    ibge_code: int
    name: str
    lat: float
    lon: float
    population: int


@dataclass(frozen=True)
class DepotHub:
    depot_id: str
    name: str
    municipality: str


# (IBGE code, name, lat, lon, population ~2022)
_MUNICIPALITIES: tuple[tuple[int, str, float, float, int], ...] = (
    (2927408, "Salvador", -12.9718, -38.5011, 2_418_000),
    (2910800, "Feira de Santana", -12.2664, -38.9663, 616_000),
    (2933307, "Vitória da Conquista", -14.8615, -40.8442, 371_000),
    (2905701, "Camaçari", -12.6996, -38.3263, 300_000),
    (2918407, "Juazeiro", -9.41622, -40.5033, 238_000),
    (2919207, "Lauro de Freitas", -12.8978, -38.3210, 203_000),
    (2914802, "Itabuna", -14.7876, -39.2781, 187_000),
    (2913606, "Ilhéus", -14.7930, -39.0460, 179_000),
    (2925303, "Porto Seguro", -16.4435, -39.0643, 168_000),
    (2903201, "Barreiras", -12.1439, -44.9968, 160_000),
    (2918001, "Jequié", -13.8509, -40.0877, 159_000),
    (2900702, "Alagoinhas", -12.1335, -38.4208, 151_000),
    (2931350, "Teixeira de Freitas", -17.5399, -39.7400, 145_000),
    (2930709, "Simões Filho", -12.7866, -38.4029, 115_000),
    (2910727, "Eunápolis", -16.3715, -39.5821, 114_000),
    (2924009, "Paulo Afonso", -9.3983, -38.2216, 113_000),
    (2919553, "Luís Eduardo Magalhães", -12.0956, -45.7866, 108_000),
    (2928703, "Santo Antônio de Jesus", -12.9614, -39.2584, 103_000),
    (2911709, "Guanambi", -14.2231, -42.7799, 88_000),
    (2932903, "Valença", -13.3669, -39.0730, 86_000),
    (2910057, "Dias d'Ávila", -12.6187, -38.2926, 81_000),
    (2917508, "Jacobina", -11.1812, -40.5117, 81_000),
    (2930501, "Serrinha", -11.6584, -39.0100, 80_000),
    (2930105, "Senhor do Bonfim", -10.4594, -40.1865, 75_000),
    (2914604, "Irecê", -11.3033, -41.8535, 73_000),
    (2906501, "Candeias", -12.6716, -38.5472, 72_000),
    (2906006, "Campo Formoso", -10.5105, -40.3200, 71_000),
    (2904605, "Brumado", -14.2021, -41.6696, 70_000),
    (2916401, "Itapetinga", -15.2475, -40.2482, 68_000),
    (2908408, "Conceição do Coité", -11.5600, -39.2808, 68_000),
    (2907202, "Casa Nova", -9.16408, -40.9740, 67_000),
    (2903904, "Bom Jesus da Lapa", -13.2506, -43.4108, 66_000),
    (2914703, "Itaberaba", -12.5242, -40.3059, 65_000),
    (2915601, "Itamaraju", -17.0378, -39.5386, 64_000),
    (2909802, "Cruz das Almas", -12.6675, -39.1008, 64_000),
    (2910701, "Euclides da Cunha", -10.5078, -39.0153, 60_000),
    (2928604, "Santo Amaro", -12.5472, -38.7137, 58_000),
    (2914000, "Ipirá", -12.1561, -39.7359, 58_000),
    (2902104, "Araci", -11.3253, -38.9584, 52_000),
    (2931905, "Tucano", -10.9584, -38.7894, 53_000),
    (2907509, "Catu", -12.3513, -38.3791, 52_000),
    (2917607, "Jaguaquara", -13.5248, -39.9640, 51_000),
    (2926608, "Ribeira do Pombal", -10.8373, -38.5382, 51_000),
    (2905206, "Caetité", -14.0684, -42.4861, 50_000),
    (2921500, "Monte Santo", -10.4374, -39.3321, 50_000),
    (2902708, "Barra", -11.0859, -43.1459, 49_000),
    (2925105, "Poções", -14.5234, -40.3634, 47_000),
    (2919801, "Macaúbas", -13.0186, -42.6945, 47_000),
    (2921005, "Mata de São João", -12.5307, -38.3009, 45_000),
    (2919504, "Livramento de Nossa Senhora", -13.6369, -41.8432, 45_000),
    (2933604, "Xique-Xique", -10.8230, -42.7245, 45_000),
    (2913903, "Ipiaú", -14.1226, -39.7353, 45_000),
    (2923001, "Nova Viçosa", -17.8926, -39.3743, 43_000),
    (2929909, "Seabra", -12.4169, -41.7722, 43_000),
    (2930204, "Sento Sé", -9.74138, -41.8786, 42_000),
    (2920601, "Maragogipe", -12.7760, -38.9175, 42_000),
    (2926004, "Remanso", -9.61944, -42.0848, 41_000),
    (2933208, "Vera Cruz", -12.9568, -38.6153, 41_000),
    (2928109, "Santa Maria da Vitória", -13.3859, -44.2011, 40_000),
    (2922003, "Mucuri", -18.0754, -39.5565, 40_000),
    (2910503, "Entre Rios", -11.9392, -38.0871, 40_000),
    (2927002, "Rio Real", -11.4814, -37.9332, 38_000),
    (2918100, "Jeremoabo", -10.0685, -38.3471, 37_000),
    (2901007, "Amargosa", -13.0215, -39.6020, 37_000),
    (2910602, "Esplanada", -11.7942, -37.9432, 36_000),
    (2921708, "Morro do Chapéu", -11.5488, -41.1565, 35_000),
    (2928901, "São Desidério", -12.3572, -44.9769, 34_000),
    (2909901, "Curaçá", -8.98458, -39.8997, 33_000),
    (2926301, "Riachão do Jacuípe", -11.8067, -39.3818, 33_000),
    (2925204, "Pojuca", -12.4303, -38.3374, 33_000),
    (2928000, "Santaluz", -11.2508, -39.3750, 33_000),
    (2911204, "Gandu", -13.7441, -39.4747, 32_000),
    (2905602, "Camacan", -15.4142, -39.4919, 31_000),
    (2906303, "Canavieiras", -15.6722, -38.9536, 31_000),
    (2909307, "Correntina", -13.3477, -44.6333, 31_000),
    (2907806, "Cícero Dantas", -10.5897, -38.3794, 31_000),
    (2906873, "Capim Grosso", -11.3797, -40.0089, 31_000),
    (2904902, "Cachoeira", -12.5994, -38.9587, 29_000),
    (2907103, "Carinhanha", -14.2985, -43.7724, 28_000),
    (2925501, "Prado", -17.3364, -39.2227, 28_000),
    (2927705, "Santa Cruz Cabrália", -16.2825, -39.0295, 27_000),
    (2914901, "Itacaré", -14.2784, -38.9959, 27_000),
    (2913200, "Ibotirama", -12.1779, -43.2167, 26_000),
    (2911105, "Formosa do Rio Preto", -11.0328, -45.1930, 25_000),
    (2932507, "Una", -15.2791, -39.0765, 22_000),
    (2906907, "Caravelas", -17.7268, -39.2597, 22_000),
    (2916104, "Itaparica", -12.8932, -38.6800, 22_000),
    (2930774, "Sobradinho", -9.45024, -40.8145, 22_000),
    (2921104, "Medeiros Neto", -17.3707, -40.2238, 21_000),
    (2919926, "Madre de Deus", -12.7446, -38.6153, 20_000),
    (2908101, "Cocos", -14.1814, -44.5352, 18_000),
)

MUNICIPALITIES: tuple[Municipality, ...] = tuple(Municipality(*row) for row in _MUNICIPALITIES)

# Regional hubs, in the order a growing network would open them: the first `depots` are used.
DEPOT_HUBS: tuple[DepotHub, ...] = (
    DepotHub("DEP-SSA", "CD Salvador", "Salvador"),
    DepotHub("DEP-FSA", "CD Feira de Santana", "Feira de Santana"),
    DepotHub("DEP-VDC", "CD Vitória da Conquista", "Vitória da Conquista"),
    DepotHub("DEP-ITB", "CD Itabuna", "Itabuna"),
    DepotHub("DEP-JUA", "CD Juazeiro", "Juazeiro"),
    DepotHub("DEP-BRA", "CD Barreiras", "Barreiras"),
    DepotHub("DEP-TXF", "CD Teixeira de Freitas", "Teixeira de Freitas"),
    DepotHub("DEP-JEQ", "CD Jequié", "Jequié"),
    DepotHub("DEP-PAV", "CD Paulo Afonso", "Paulo Afonso"),
    DepotHub("DEP-IRE", "CD Irecê", "Irecê"),
    DepotHub("DEP-GNM", "CD Guanambi", "Guanambi"),
    DepotHub("DEP-ALH", "CD Alagoinhas", "Alagoinhas"),
)

_BY_NAME = {m.name: m for m in MUNICIPALITIES}


def municipality(name: str) -> Municipality:
    """The municipality called `name` (exact Portuguese spelling)."""
    return _BY_NAME[name]


def haversine_km(
    lat1: np.ndarray | float,
    lon1: np.ndarray | float,
    lat2: np.ndarray | float,
    lon2: np.ndarray | float,
) -> np.ndarray:
    """Great-circle distance in km; broadcasts like numpy."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a)))


def nearest_depot(
    lat: np.ndarray, lon: np.ndarray, depot_lat: np.ndarray, depot_lon: np.ndarray
) -> np.ndarray:
    """Index of the nearest depot (haversine) for every point."""
    dist = haversine_km(lat[:, None], lon[:, None], depot_lat[None, :], depot_lon[None, :])
    return np.asarray(np.argmin(dist, axis=1))
