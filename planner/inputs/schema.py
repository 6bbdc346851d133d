"""The input schema, declared once.

Every sheet and column of the input workbook (docs/workbook.md, generated from this
module) is described here: its type, unit, default, the sheet it refers to and
a one-line meaning.  The template writer, the loader and the validator all read
this table, so there is no second list of columns anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: Kinds of cell value.  ``id`` is case-sensitive text, ``label`` a period label,
#: ``number`` a non-negative number, ``share`` a fraction in [0, 1], ``rate`` a
#: non-negative fraction (may exceed 1), ``bool`` TRUE/FALSE, ``tags`` a
#: comma-separated list, ``text`` free text, ``choice`` one of ``choices``.
Kind = Literal["id", "label", "number", "share", "rate", "bool", "tags", "text", "choice"]

#: What a reference column points at.  ``country_or_tag`` accepts a country code
#: or a group tag; ``period`` a period label; ``company`` suggests the operators named
#: in Facilities (any other name may be typed: suppliers need not operate a facility).
Ref = Literal[
    "material", "country", "country_or_tag", "stage", "facility", "route", "period",
    "company",
]


@dataclass(frozen=True)
class Column:
    """One column of an input sheet."""

    name: str
    kind: Kind
    help: str
    #: the column must be present in the sheet header
    required: bool = False
    #: a cell in this column must not be blank
    cell_required: bool = False
    default: object = None
    unit: str = ""
    ref: Ref | None = None
    choices: tuple[str, ...] = ()
    #: Excel number format used by the template
    number_format: str = "General"
    width: int = 14


@dataclass(frozen=True)
class Sheet:
    """One input sheet: its columns and, for id sheets, its key column."""

    name: str
    required: bool
    purpose: str
    columns: tuple[Column, ...]
    key: str | None = None
    #: Routes only: one extra column per stage, named by the stage ids
    stage_columns: bool = False
    fields: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", {c.name: c for c in self.columns})


T = "t"
T_YR = "t/yr"
MONEY_T = "currency/t"
FMT_T = "#,##0.###"
FMT_MONEY = "#,##0.00"
FMT_SHARE = "0.0%"


def _window(what: str) -> tuple[Column, Column]:
    return (
        Column("from_period", "label", f"First period {what} (blank: the first period).",
               ref="period", width=12),
        Column("to_period", "label", f"Last period {what} (blank: the last period).",
               ref="period", width=12),
    )


SETTINGS = Sheet(
    "Settings", False,
    "Plan-wide settings: plan name, currency and the penalty costs.",
    (
        Column("setting", "text", "Setting name: plan_name, currency, shortage_penalty, "
               "stockpile_penalty.", required=True, cell_required=True, width=22),
        Column("value", "text", "The setting's value.", required=True, width=22),
    ),
)

#: Settings the contract knows, with their kind and meaning.
SETTING_KEYS: dict[str, tuple[Kind, str]] = {
    "plan_name": ("text", "Title shown in the report (default: the input file's name)."),
    "currency": ("text", "Currency code shown in the report (default USD)."),
    "shortage_penalty": ("number", "Cost per t of demand left unmet, for materials that set "
                         "none (default: 10 x the highest unit_cost in Offers)."),
    "stockpile_penalty": ("number", "Cost per t per year that end-of-period stock falls "
                          "below the stockpile minimum, charged x days/365 (default: each "
                          "material's shortage_penalty / (2 x the horizon in years), so a "
                          "strategic stock is drawn before demand goes unmet)."),
    "time_limit": ("number", "Solver time limit in seconds per case (default: none)."),
    "threads": ("number", "Solver threads (default: HiGHS's choice)."),
    "method": ("text", "Solver method: choose, simplex, ipm or pdlp (default: choose)."),
    "gap": ("number", "Relative optimality gap for the ipm and pdlp methods (simplex always "
            "solves to optimality; default: HiGHS's)."),
    "commit_through": ("label", "planner hedge: the last period whose orders are signed now, "
                       "shared by every scenario (a period label; default: the first period)."),
    "risk_weight": ("share", "planner hedge: lambda, the weight of CVaR against the expected "
                    "cost, from 0 (risk neutral, the default) to 1 (CVaR only)."),
    "cvar_level": ("share", "planner hedge: alpha, the CVaR level in [0, 1): CVaR is the "
                   "expected cost of the worst 1 - alpha of probability (default 0.9)."),
}

PERIODS = Sheet(
    "Periods", True, "The planning horizon, in order.",
    (
        Column("period", "label", "Period label, e.g. 2027.", required=True,
               cell_required=True, width=12),
        Column("days", "number", "Length of the period in days.", default=365.0,
               unit="days", number_format="0", width=10),
    ),
    key="period",
)

MATERIALS = Sheet(
    "Materials", True, "The materials bought, with their stock parameters.",
    (
        Column("material", "id", "Material id, e.g. NdPr_oxide.", required=True,
               cell_required=True, width=18),
        Column("description", "text", "Free text.", width=30),
        Column("holding_cost", "number", "Cost per t per year of stock held at the end of "
               "a period.", default=0.0, unit="currency/t/yr", number_format=FMT_MONEY),
        Column("shortage_penalty", "number", "Cost per t of unmet demand (blank: the "
               "Settings value).", unit=MONEY_T, number_format=FMT_MONEY),
        Column("initial_stock", "number", "t on hand before the first period.", default=0.0,
               unit=T, number_format=FMT_T),
        Column("end_value", "number", "Credit per t of stock left at the end of the last "
               "period (below the cheapest delivered price then).", default=0.0,
               unit=MONEY_T, number_format=FMT_MONEY),
    ),
    key="material",
)

DEMAND = Sheet(
    "Demand", True, "t needed per material and period (a missing pair means 0).",
    (
        Column("material", "id", "Material id.", required=True, cell_required=True,
               ref="material", width=18),
        Column("period", "label", "Period label.", required=True, cell_required=True,
               ref="period", width=12),
        Column("demand", "number", "t needed in the period.", required=True, default=0.0,
               unit=T, number_format=FMT_T),
    ),
)

STOCKPILE = Sheet(
    "Stockpile", False, "Strategic stock targets: minimum and maximum end-of-period stock.",
    (
        Column("material", "id", "Material id.", required=True, cell_required=True,
               ref="material", width=18),
        *_window("of the target"),
        Column("min_days", "number", "Minimum stock in days of the period's demand (base "
               "case, also in scenarios).", default=0.0, unit="days", number_format="0.##"),
        Column("min_tonnes", "number", "Minimum stock in t.", default=0.0, unit=T,
               number_format=FMT_T),
        Column("max_tonnes", "number", "Maximum stock in t (blank: no limit).", unit=T,
               number_format=FMT_T),
    ),
)

COUNTRIES = Sheet(
    "Countries", True, "Countries (ISO 3166 alpha-3 codes) and the groups they belong to.",
    (
        Column("country", "id", "Country code, e.g. CHN.", required=True, cell_required=True,
               width=10),
        Column("name", "text", "Country name.", width=20),
        Column("groups", "tags", "Comma-separated group tags, e.g. EU, covered.", width=24),
        Column("risk_score", "number", "Optional governance risk score (e.g. the EU's scaled "
               "WGI, 0-10, higher = riskier); weights the supply-risk index.",
               unit="score", number_format="0.00", width=11),
    ),
    key="country",
)

STAGES = Sheet(
    "Stages", True, "The processing stages in order; their ids are the Routes columns.",
    (
        Column("stage", "id", "Stage id, e.g. separation.", required=True, cell_required=True,
               width=16),
        Column("description", "text", "Free text.", width=30),
    ),
    key="stage",
)

FACILITIES = Sheet(
    "Facilities", True, "Mines and plants: one stage in one country, with shared capacity.",
    (
        Column("facility", "id", "Facility id.", required=True, cell_required=True, width=18),
        Column("name", "text", "Facility name.", width=24),
        Column("company", "id", "Operating company.", width=18),
        Column("country", "id", "Country code where it lies.", required=True,
               cell_required=True, ref="country", width=10),
        Column("stage", "id", "Stage it performs.", required=True, cell_required=True,
               ref="stage", width=14),
        Column("capacity", "number", "Throughput shared by all routes through it "
               "(blank: unlimited).", unit=T_YR, number_format=FMT_T),
        *_window("it operates"),
    ),
    key="facility",
)

ROUTES = Sheet(
    "Routes", True, "Processing chains: in each stage column the facility, or blank to skip.",
    (
        Column("route", "id", "Route id.", required=True, cell_required=True, width=18),
    ),
    key="route",
    stage_columns=True,
)

OFFERS = Sheet(
    "Offers", True, "Supply options: a supplier sells a material along a route.",
    (
        Column("offer", "id", "Offer id.", required=True, cell_required=True, width=16),
        Column("supplier", "id", "Selling company.", required=True, cell_required=True,
               ref="company", width=18),
        Column("material", "id", "Material id.", required=True, cell_required=True,
               ref="material", width=18),
        Column("route", "id", "Route id.", required=True, cell_required=True, ref="route",
               width=16),
        Column("unit_cost", "number", "Price per t delivered.", required=True,
               cell_required=True, unit=MONEY_T, number_format=FMT_MONEY),
        Column("min_volume", "number", "t per year committed whenever available.",
               default=0.0, unit=T_YR, number_format=FMT_T),
        Column("max_volume", "number", "t per year at most (blank: unlimited).", unit=T_YR,
               number_format=FMT_T),
        *_window("it is offered"),
        Column("take_or_pay", "rate", "Fraction of unit_cost paid per t of min_volume not "
               "taken (blank: the commitment must be taken).", unit="fraction",
               number_format=FMT_SHARE, width=12),
    ),
    key="offer",
)

TARIFFS = Sheet(
    "Tariffs", False, "Ad-valorem tariffs by the country of the route's last facility.",
    (
        Column("country", "id", "Country code or group tag.", required=True,
               cell_required=True, ref="country_or_tag", width=12),
        Column("material", "id", "Material id (blank: all).", ref="material", width=18),
        Column("rate", "rate", "Ad-valorem rate, 0.25 = 25%.", required=True,
               cell_required=True, unit="fraction", number_format=FMT_SHARE),
        *_window("the rate applies"),
    ),
)

RULE_KINDS = ("ban", "quota")
#: what a rule or cap acts on: what is bought in its window, or what is consumed then
APPLIES_TO = ("purchase", "use")


def _applies_to(what: str) -> Column:
    return Column("applies_to", "choice", f"purchase (default): the {what} acts on what is "
                  "bought in its window; use: on what is consumed then, whenever bought.",
                  default="purchase", choices=APPLIES_TO, width=11)


RULES = Sheet(
    "Rules", False, "Sanctions and export controls: bans and quotas.",
    (
        Column("rule", "id", "Rule id.", required=True, cell_required=True, width=16),
        Column("kind", "choice", "ban or quota.", required=True, cell_required=True,
               choices=RULE_KINDS, width=10),
        Column("country", "id", "Country code or group tag matched on route facilities.",
               ref="country_or_tag", width=12),
        Column("company", "id", "Supplier or facility operator matched.", ref="company",
               width=18),
        Column("stage", "id", "Stage at which country/company is matched (blank: any).",
               ref="stage", width=14),
        Column("material", "id", "Material (blank: all).", ref="material", width=18),
        Column("limit", "number", "Quota: matching flows at most this many t per year.",
               unit=T_YR, number_format=FMT_T),
        *_window("the rule applies"),
        Column("active", "bool", "TRUE, or FALSE to apply only when a scenario turns it on.",
               default=True, width=9),
        Column("basis", "text", "Legal basis, echoed in the report.", width=30),
        _applies_to("rule"),
    ),
    key="rule",
)

CAPS = Sheet(
    "Caps", False, "Concentration caps (max_share) and sourcing floors (min_share).",
    (
        Column("cap", "id", "Cap id.", required=True, cell_required=True, width=16),
        Column("material", "id", "Material (blank: each material separately).",
               ref="material", width=18),
        Column("stage", "id", "Stage (blank: each stage separately).", ref="stage", width=14),
        Column("country", "id", "Country code or tag as a whole (blank: each single "
               "country).", ref="country_or_tag", width=12),
        Column("max_share", "share", "Highest share of the material's flow.",
               unit="fraction", number_format=FMT_SHARE, width=11),
        Column("min_share", "share", "Lowest share of the material's flow.",
               unit="fraction", number_format=FMT_SHARE, width=11),
        *_window("the cap applies"),
        Column("active", "bool", "TRUE, or FALSE to apply only when a scenario turns it on.",
               default=True, width=9),
        Column("basis", "text", "Policy basis, echoed in the report.", width=30),
        _applies_to("cap"),
    ),
    key="cap",
)

ACTIONS = ("rule_on", "rule_off", "cap_on", "cap_off", "capacity", "cost", "demand")

SCENARIOS = Sheet(
    "Scenarios", False, "What-if cases: each is the base case plus its rows.",
    (
        Column("scenario", "id", "Scenario name.", required=True, cell_required=True,
               width=18),
        Column("action", "choice", "rule_on, rule_off, cap_on, cap_off, capacity, cost or "
               "demand.", required=True, cell_required=True, choices=ACTIONS, width=11),
        Column("target", "id", "Rule, cap, facility, offer or material id; or a country, tag "
               "or company.", width=18),
        Column("material", "id", "cost only: narrows to offers of this material.",
               ref="material", width=18),
        *_window("the action applies"),
        Column("value", "rate", "Factor for capacity, cost and demand (0 = outage).",
               unit="factor", number_format="0.00", width=10),
    ),
)

RISKS = Sheet(
    "Risks", False, "Disruption risks for Monte Carlo analysis (planner stress).",
    (
        Column("risk", "id", "Risk id.", required=True, cell_required=True, width=16),
        Column("target", "id", "Facility id; country or tag (facilities located there); or "
               "company (facilities it operates).", required=True, cell_required=True,
               width=18),
        Column("stage", "id", "Only facilities at this stage (blank: any stage).", ref="stage",
               width=14),
        Column("probability", "share", "Yearly probability that the disruption starts.",
               required=True, cell_required=True, unit="fraction/yr",
               number_format=FMT_SHARE, width=12),
        Column("duration", "number", "Whole periods the disruption lasts once started.",
               default=1.0, unit="periods", number_format="0", width=10),
        Column("capacity_factor", "share", "Capacity factor remaining while it lasts "
               "(0 = outage).", default=0.0, unit="factor", number_format="0.00", width=12),
        Column("basis", "text", "Source or rationale, echoed in the report.", width=30),
    ),
    key="risk",
)

PROBABILITIES = Sheet(
    "Probabilities", False, "planner hedge: the probability of each case (base and Scenarios "
    "names; they sum to 1; cases not listed take no part).",
    (
        Column("scenario", "id", "base, or a scenario name from the Scenarios sheet.",
               required=True, cell_required=True, width=18),
        Column("probability", "share", "Probability of the case, between 0 and 1; the "
               "probabilities sum to 1.", required=True, cell_required=True,
               unit="fraction", number_format="0.0%", width=12),
    ),
    key="scenario",
)

#: All sheets in the order of the template.
SHEETS: tuple[Sheet, ...] = (
    SETTINGS, PERIODS, MATERIALS, DEMAND, STOCKPILE, COUNTRIES, STAGES, FACILITIES,
    ROUTES, OFFERS, TARIFFS, RULES, CAPS, SCENARIOS, PROBABILITIES, RISKS,
)
SHEET_BY_NAME: dict[str, Sheet] = {s.name: s for s in SHEETS}


def norm_name(name: object) -> str:
    """Sheet and column names match case-insensitively, ignoring surrounding spaces."""
    return str(name).strip().casefold() if name is not None else ""
