"""Intermittent-demand methods (statsforecast): Croston, SBA, TSB, ADIDA, IMAPA."""

from __future__ import annotations

from ml.models.base import LocalModel, StatsforecastModel


def CrostonClassic(alias: str = "Croston") -> LocalModel:
    from statsforecast.models import CrostonClassic as _Croston

    return StatsforecastModel(_Croston(), alias)


def CrostonSBA(alias: str = "SBA") -> LocalModel:
    from statsforecast.models import CrostonSBA as _SBA

    return StatsforecastModel(_SBA(), alias)


def TSB(alpha_d: float = 0.1, alpha_p: float = 0.1, alias: str = "TSB") -> LocalModel:
    from statsforecast.models import TSB as _TSB

    return StatsforecastModel(_TSB(alpha_d=alpha_d, alpha_p=alpha_p), alias)


def ADIDA(alias: str = "ADIDA") -> LocalModel:
    from statsforecast.models import ADIDA as _ADIDA

    return StatsforecastModel(_ADIDA(), alias)


def IMAPA(alias: str = "IMAPA") -> LocalModel:
    from statsforecast.models import IMAPA as _IMAPA

    return StatsforecastModel(_IMAPA(), alias)
