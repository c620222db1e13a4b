"""Sector profiles: how a sector shifts risk, collateral and intellectual property.

Sectors are those the book's parks host (§三, §六(三)4). The multipliers are modelling
assumptions that encode the book's qualitative statements: biomedicine and hard tech hold
value in IP and people, manufacturing and green energy in plant and equipment (§五(二)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SectorProfile:
    """Multipliers applied to an enterprise's base rates because of its sector."""

    failure: float  # × stage failure hazard
    collateral: float  # × stage collateral-to-revenue ratio
    ip: float  # × stage IP-to-revenue ratio
    graduation: float  # × stage graduation hazard
    leads_chains: bool = True  # its large firms anchor supplier chains (链主, §四(一))


SECTOR_PROFILES: dict[str, SectorProfile] = {
    "biomedicine": SectorProfile(failure=1.20, collateral=0.5, ip=1.8, graduation=0.9),
    "it_software": SectorProfile(failure=1.05, collateral=0.3, ip=0.8, graduation=1.1),
    "hard_tech": SectorProfile(failure=1.10, collateral=0.7, ip=1.6, graduation=1.0),
    "advanced_manufacturing": SectorProfile(failure=0.85, collateral=1.6, ip=0.7, graduation=0.9),
    # Service firms (finance, consulting, logistics HQs) serve industrial chains rather
    # than anchor a supplier network (assumption; the book's 链主 are 产业链 core firms).
    "modern_services": SectorProfile(
        failure=0.95, collateral=0.4, ip=0.3, graduation=1.0, leads_chains=False
    ),
    "green": SectorProfile(failure=0.90, collateral=1.3, ip=0.9, graduation=1.0),
}

SECTOR_NAMES: tuple[str, ...] = tuple(SECTOR_PROFILES)


@dataclass(frozen=True)
class SectorArrays:
    """The profiles of a park's sectors as arrays indexed by sector code."""

    names: tuple[str, ...]
    failure: np.ndarray
    collateral: np.ndarray
    ip: np.ndarray
    graduation: np.ndarray
    leads_chains: np.ndarray  # bool

    @classmethod
    def of(cls, names: tuple[str, ...]) -> SectorArrays:
        profiles = [SECTOR_PROFILES[name] for name in names]
        return cls(
            names=names,
            failure=np.array([p.failure for p in profiles]),
            collateral=np.array([p.collateral for p in profiles]),
            ip=np.array([p.ip for p in profiles]),
            graduation=np.array([p.graduation for p in profiles]),
            leads_chains=np.array([p.leads_chains for p in profiles], dtype=bool),
        )
