"""Country concentration of a plan, defined once for the Dashboard, Supply risk and stress.

For one material, stage and period:

* the **flow** is every purchase of the material in the period (Stock
  ``supplied``), including offers whose route skips the stage, as a cap's
  ``max_share`` counts it and as the Exposure table's ``share`` is taken;
* a country's **share** is the volume passing the stage in that country divided
  by that flow (the Exposure ``share``); volume that skips the stage is in no
  country's share, so the shares add up to less than 1 when some route skips it;
* **HHI** (Herfindahl-Hirschman index) is the sum of the squared shares in
  percent, on the antitrust 0-10,000 scale: 10,000 when one country handles
  every tonne bought, 5,000 for two equal countries; 2,500 or more is highly
  concentrated (US merger guidelines).

This module imports nothing from Pyomo.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from planner.analysis.table import values

#: the one HHI label of every header and sentence
HHI_LABEL = "HHI (0-10,000)"
#: HHI at or above this is highly concentrated (highlighted on the Dashboard)
HHI_HIGH = 2500.0


@dataclass(frozen=True)
class Concentration:
    """Country shares of one material's purchases at one stage in one period."""

    material: str
    stage: str
    period: str
    #: t of the material bought in the period (the shares' denominator)
    purchases: float
    #: country -> t bought that pass the stage in that country
    volumes: dict[str, float] = field(default_factory=dict)

    @property
    def through_stage(self) -> float:
        """t bought that pass the stage (the rest skip it)."""
        return sum(self.volumes.values())

    @property
    def shares(self) -> dict[str, float]:
        """Country -> share of all purchases of the material in the period."""
        if self.purchases <= 0:
            return dict.fromkeys(self.volumes, 0.0)
        return {c: v / self.purchases for c, v in self.volumes.items()}

    @property
    def top_country(self) -> str:
        """The country with the largest share (ties: the first code alphabetically)."""
        return min(self.volumes, key=lambda c: (-self.volumes[c], c))

    @property
    def top_share(self) -> float:
        return self.shares[self.top_country]

    @property
    def hhi(self) -> float:
        """Sum of squared shares in percent, 0-10,000."""
        return sum((100.0 * s) ** 2 for s in self.shares.values())

    def weighted(self, scores: dict[str, float], default: float) -> float:
        """Sum of squared shares (0-1) x each country's score (``default`` when absent):
        the EU's governance-weighted HHI_WGI, on the scores' own scale."""
        return sum(s * s * scores.get(c, default) for c, s in self.shares.items())


def concentrations(exposure: Iterable[dict[str, Any]], stock: Iterable[dict[str, Any]]
                   ) -> list[Concentration]:
    """Per material x stage x period of one case, from its Exposure and Stock rows
    (Stock ``supplied`` is the material's purchases in the period), in Exposure order."""
    bought = {(mat, str(period)): float(supplied or 0.0) for mat, period, supplied
              in values(stock, "material", "period", "supplied")}
    vols: dict[tuple[str, str, str], dict[str, float]] = defaultdict(dict)
    for mat, stage, period, country, vol in values(exposure, "material", "stage", "period",
                                                   "country", "volume"):
        by_country = vols[(mat, stage, str(period))]
        by_country[country] = by_country.get(country, 0.0) + float(vol)
    out: list[Concentration] = []
    for (mat, stage, period), by_country in vols.items():
        if sum(by_country.values()) <= 0:
            continue
        purchases = bought.get((mat, period), 0.0) or sum(by_country.values())
        out.append(Concentration(mat, stage, period, purchases, dict(by_country)))
    return out
