"""Typed, validated input data: what the loader hands to the model.

Periods are referred to by index (0-based, in the order of the Periods sheet);
windows are inclusive index pairs.  Rates stay per year here; the model scales
them by days/365.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Window = tuple[int, int]


@dataclass(frozen=True)
class Period:
    label: str
    days: float

    @property
    def years(self) -> float:
        """y(t) = days / 365, the factor applied to per-year rates."""
        return self.days / 365.0


@dataclass(frozen=True)
class Material:
    id: str
    description: str
    holding_cost: float
    shortage_penalty: float | None
    initial_stock: float
    row: int = 0
    #: credit per t of stock left at the end of the last period
    end_value: float = 0.0


@dataclass(frozen=True)
class StockpileRow:
    material: str
    window: Window
    min_days: float
    min_tonnes: float
    max_tonnes: float | None
    row: int = 0


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    groups: tuple[str, ...]
    row: int = 0


@dataclass(frozen=True)
class Facility:
    id: str
    name: str
    company: str | None
    country: str
    stage: str
    capacity: float | None
    window: Window
    row: int = 0


@dataclass(frozen=True)
class Route:
    id: str
    #: stage id -> facility id, in stage order, skipped stages left out
    facilities: dict[str, str]
    row: int = 0

    @property
    def last_facility(self) -> str:
        return list(self.facilities.values())[-1]


@dataclass(frozen=True)
class Offer:
    id: str
    supplier: str
    material: str
    route: str
    unit_cost: float
    min_volume: float
    max_volume: float | None
    window: Window
    row: int = 0
    #: fraction of unit_cost paid per t of min_volume not taken; None: must take
    take_or_pay: float | None = None


@dataclass(frozen=True)
class Tariff:
    country: str
    material: str | None
    rate: float
    window: Window
    row: int = 0


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    country: str | None
    company: str | None
    stage: str | None
    material: str | None
    limit: float | None
    window: Window
    active: bool
    basis: str
    row: int = 0
    #: "purchase" (what is bought in the window) or "use" (what is consumed then)
    applies_to: str = "purchase"

    @property
    def excludes_offers(self) -> bool:
        """A ban on purchases: matching offers are unavailable in its window.  A use
        ban leaves them available (what is bought may be consumed after it)."""
        return self.kind == "ban" and self.applies_to == "purchase"


@dataclass(frozen=True)
class Cap:
    id: str
    material: str | None
    stage: str | None
    country: str | None
    max_share: float | None
    min_share: float | None
    window: Window
    active: bool
    basis: str
    row: int = 0
    applies_to: str = "purchase"


@dataclass(frozen=True)
class ScenarioRow:
    scenario: str
    action: str
    target: str | None
    material: str | None
    window: Window
    value: float | None
    row: int = 0


@dataclass(frozen=True)
class Settings:
    plan_name: str
    currency: str
    shortage_penalty: float
    #: per t per year; None: each material's shortage_penalty / (2 x horizon years)
    stockpile_penalty: float | None
    time_limit: float | None = None
    threads: int | None = None
    method: str = "choose"
    gap: float | None = None
    #: planner hedge: index of the last period whose orders all scenarios share
    commit_through: int = 0
    #: planner hedge: lambda, the weight of CVaR in the objective, in [0, 1]
    risk_weight: float = 0.0
    #: planner hedge: alpha, the CVaR level, in [0, 1)
    cvar_level: float = 0.9


@dataclass
class PlanData:
    """The whole validated workbook."""

    source: str
    settings: Settings
    periods: list[Period]
    materials: dict[str, Material]
    demand: dict[tuple[str, int], float]
    stockpile: list[StockpileRow]
    countries: dict[str, Country]
    stages: list[str]
    facilities: dict[str, Facility]
    routes: dict[str, Route]
    offers: dict[str, Offer]
    tariffs: list[Tariff]
    rules: dict[str, Rule]
    caps: dict[str, Cap]
    scenarios: dict[str, list[ScenarioRow]]
    warnings: list[str] = field(default_factory=list)
    #: Probabilities sheet: case name (``base`` or a scenario) -> probability; empty
    #: when the sheet is absent or empty (only planner hedge reads it)
    probabilities: dict[str, float] = field(default_factory=dict)
    #: the Countries and Risks sheets as read (raw tables by normalised sheet name), for
    #: the supply-risk scores and the Monte Carlo risks, parsed when a command needs
    #: them; kept so that no later step re-reads the input file
    risk_tables: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # --- derived look-ups -------------------------------------------------
    def groups(self) -> dict[str, set[str]]:
        """Group tag -> member country codes."""
        out: dict[str, set[str]] = {}
        for c in self.countries.values():
            for g in c.groups:
                out.setdefault(g, set()).add(c.code)
        return out

    def members(self, code_or_tag: str) -> set[str]:
        """The countries a code or group tag stands for."""
        if code_or_tag in self.countries:
            return {code_or_tag}
        return self.groups().get(code_or_tag, set())

    def companies(self) -> set[str]:
        """Every supplier and facility operator named."""
        out = {o.supplier for o in self.offers.values()}
        out |= {f.company for f in self.facilities.values() if f.company}
        return out

    def period_index(self) -> dict[str, int]:
        return {p.label: i for i, p in enumerate(self.periods)}

    @property
    def horizon_years(self) -> float:
        """The horizon's length in years: the sum of days(t) / 365."""
        return sum(p.years for p in self.periods)

    def shortage_penalty(self, material: str) -> float:
        """The material's own shortage penalty, else the Settings value."""
        own = self.materials[material].shortage_penalty
        return self.settings.shortage_penalty if own is None else own

    def stockpile_penalty(self, material: str) -> float:
        """Per t per year below the stockpile minimum: the Settings value, else the
        material's shortage penalty / (2 x the horizon in years), so that a tonne
        short of the minimum for the whole horizon costs half a tonne of unmet
        demand and a strategic stock is drawn before demand goes unmet."""
        if self.settings.stockpile_penalty is not None:
            return self.settings.stockpile_penalty
        years = self.horizon_years
        return self.shortage_penalty(material) / (2.0 * years) if years > 0 else 0.0

    @property
    def uses_origin(self) -> bool:
        """Some rule or cap acts on use: stock then remembers the offer it came from."""
        return any(r.applies_to == "use" for r in self.rules.values()) or any(
            c.applies_to == "use" for c in self.caps.values())
