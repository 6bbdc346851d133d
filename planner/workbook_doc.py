"""docs/workbook.md, generated from the schema and the model's registry.

The input sheets come from :data:`planner.inputs.schema.SHEETS` (the schema declared
once), the model's algebra from :data:`planner.model.families.FAMILIES` and
:data:`planner.model.families.COST_PARTS`, the report's columns from
:data:`planner.analysis.results.TABLE_COLUMNS`; only the connecting prose lives here.
``python -m planner.workbook_doc`` rewrites the file, and a test keeps the
committed copy equal to what this module renders.
"""

from __future__ import annotations

import sys
from pathlib import Path

from planner.inputs.schema import SETTING_KEYS, SHEETS, Column, Sheet
from planner.model.families import COST_PARTS, FAMILIES

INTRO = """\
# The input workbook, the model and the report

This page is the planner's own description of what it reads, what it solves and
what it writes. It is generated from the code's single statements of each
(`planner/schema.py` for the sheets and columns, `planner/families.py` for the
model's constraint families and cost parts) by `python -m planner.workbook_doc`,
so it cannot drift from what the planner does. Choices the planner makes where
this description leaves room are in [decisions.md](decisions.md).

## Conventions

- One sheet per table. Row 1 holds the column names; data starts in row 2.
  Sheet and column names match case-insensitively, ignoring surrounding spaces.
  Unknown columns are ignored (keep notes there). Fully empty rows are ignored.
- A blank cell means "not set": the column's default applies, or "any" where the
  column says so.
- Mass is in tonnes (t). Money is in the currency named in Settings. Shares are
  fractions between 0 and 1 (a cell formatted as 65% holds 0.65).
- Rates are per year: facility `capacity`, offer `min_volume` / `max_volume`,
  material `holding_cost`, rule `limit`, `stockpile_penalty`. In a period of
  `days` days they are multiplied by y(t) = days / 365. Demand is per period.
- Periods are referred to by their label as written in Periods (2027 and the text
  "2027" are the same label). A window (`from_period`, `to_period`) includes both
  ends; a blank end is open.
- Ids are case-sensitive text, unique within their sheet.
- Bad input never produces a plan: every problem is reported at once, each naming
  the sheet, the Excel row, the column, the value and what was expected.
"""

SCENARIO_PROSE = """\
### What a scenario row does

Each scenario is the base case plus its rows, in the row's window:

| action | target | effect |
|---|---|---|
| rule_on / rule_off | a rule id | the rule applies / does not apply |
| cap_on / cap_off | a cap id | the cap applies / does not apply |
| capacity | a facility id; a country or tag (facilities there); a company (facilities it operates) | capacity x `value` (0 = outage) |
| cost | an offer id; a country or tag (offers with any route facility there); a company (offers it sells or with a route facility it operates) | unit_cost x `value` |
| demand | a material id, or blank for all | demand x `value` |

A target is looked up first among the ids of the sheet the action acts on, then
among country codes, group tags, and companies and suppliers. `material` narrows
a `cost` row to offers of that material. Factors of rows that apply together
multiply. Shares use the demand and capacity after these changes; stockpile
minimums in days of cover use the base case's demand.

### How rules and caps match

An offer matches a rule when its material is the rule's (or the rule's is blank),
some facility on its route at the rule's stage (any stage when blank) lies in the
rule's country or tag (when set), and the supplier or an operator on the route at
that stage is the rule's company (when set). A `ban` makes matching offers
unavailable in its window; a `quota` limits their flows together to `limit` t per
year. With `applies_to = use` a rule acts on what is consumed in its window,
whenever it was bought: stock remembers the offer it came from, a use ban forbids
consuming it, a use quota limits its consumption. Initial stock matches no rule.

A cap, for every period in its window, every material in scope (blank: each
separately), every stage in scope (blank: each separately) and every target
(`country` set: that country or group as a whole; blank: each single country),
bounds share = (flow whose facility at that stage lies in the target) / (all flow
of the material in the period, including offers whose route skips the stage),
written linearly, so a period without flow satisfies every cap. With
`applies_to = use`, shares are of consumption (initial stock counts in the total
and in no target).

### When an offer is available

In a period inside its window, when every facility on its route is inside its own
window with a capacity (after scenario factors) that is not zero, and no ban in
force excludes it. An unavailable offer carries no commitment. Force majeure: when
a facility on the route has its capacity multiplied by k < 1 in a period, the
offer's `min_volume` there is multiplied by the smallest such k. With
`take_or_pay` set, the buyer may take less than the commitment and pays
`take_or_pay` x `unit_cost` (with cost factors, without tariffs) per t not taken.
"""

MODEL_HEAD = """\
## The model

A linear program per case, solved with HiGHS. Sets: offers o, materials m, periods
t in order; for each offer its material and, per stage, the facility on its route.
Variables, all >= 0: x(o,t) flow of an offer available in t; s(m,t) stock at the
end of t; u(m,t) <= demand(m,t) unmet demand; v(m,t) stock below the stockpile
minimum; w(o,t) commitment not taken (take-or-pay offers only); and, only when a
rule or cap has `applies_to = use`, c(o,t) consumption of what was bought from o,
q(o,t) its stock, c0(m,t) and q0(m,t) the same for initial stock.

### Objective: minimise total_cost

total_cost = the cost parts below, each with its sign; each part is also a column
of the Summary.

| part | Summary column | kind | algebra |
|---|---|---|---|
"""

CONSTRAINTS_HEAD = """\

Penalties are priority weights, not money: the report keeps them apart from
spend. The stockpile penalty defaults to each material's shortage penalty /
(2 x the horizon in years), so a strategic stock is drawn before demand goes
unmet; the minimum stock is max(`min_tonnes`, `min_days` x base demand / days).

### Constraint families

Each family is one entry of `planner/families.py`; rows with a contract kind are
listed in the report's Constraints table with their slack and shadow price
(d total_cost / d right-hand side).

| family | kind | from sheet | index | algebra | dual unit |
|---|---|---|---|---|---|
"""

REPORT = """\

## The report (`planner run`)

The report workbook opens on a Dashboard, then holds these tidy tables (row 1
headers, one row per item, the base case first, `scenario` naming `base` for it):

| sheet | columns |
|---|---|
| Summary | scenario, status (`optimal`, `infeasible`, `time_limit`, `error`, ...), total_cost (the objective), procurement_cost (purchases with tariffs), holding_cost, shortage_cost, stockpile_shortfall_cost, unmet_demand (t), then take_or_pay_cost and end_value_credit |
| Plan | scenario, offer, supplier, material, route, period, volume (t), unit_cost (with tariff and cost factor), cost; only rows with volume > 0 |
| Stock | scenario, material, period, demand, supplied, stock, min_stock, stockpile_shortfall, unmet_demand |
| Exposure | scenario, material, stage, country, period, volume, share |
| Constraints | scenario, constraint (a readable name), kind (balance, capacity, quota, cap, stockpile), period, slack, shadow_price (change in total_cost per one more t allowed in that period) |

Then Policy costs (the base case re-solved without each active rule, cap and the
stockpile minimums), Shadow prices as sentences, Infeasibility (an irreducible
infeasible subset mapped to input rows), Excluded offers, Supply risk, Run (input
hash, versions, solver options, times, causes of unsolved cases) and Notes.

## Command line

| command | exit codes |
|---|---|
| `planner template PATH [--force]` | 0; 2 when PATH exists without `--force` |
| `planner validate PATH [--json]` | 0 clean; 2 problems |
| `planner run PATH [-o REPORT] [--scenario NAME ...]` | 0 every case solved; 1 a case infeasible (or unbounded, or stopped at a limit); 2 bad input; 3 a case could not be solved for another reason (the cause is printed and reported); 130 interrupted |
| `planner hedge PATH [-o REPORT]` | as for `run` |

An output path that is the input workbook is bad input.

## The hedge (`planner hedge`)

The scenarios listed on the Probabilities sheet (with `base`), each with the
variables and constraints of the model above under its own changes and cost_s its
objective, share their orders x(o,t) for every period up to and including Settings
`commit_through` (an order on an offer unavailable in some scenario then is 0).
The hedge minimises (1 - lambda) x sum of p_s x cost_s + lambda x CVaR, with
CVaR = eta + 1/(1 - alpha) x sum of p_s x z_s, z_s >= cost_s - eta, z_s >= 0,
lambda = `risk_weight` and alpha = `cvar_level`. The report (default
`reports/<input name>-hedge.xlsx`) holds `Hedge` (`measure`, `value`: expected_cost,
cvar, objective, evpi, vss), `Commitments` (`offer`, `supplier`, `material`,
`period`, `volume`), `Hedge scenarios` (`scenario`, `probability`, `total_cost`,
`money`, `penalties`, `foresight_cost`), a cost-risk Frontier and the tidy tables of
each scenario's recourse. docs/hedge.md reads it.
"""


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _default(col: Column) -> str:
    if col.default is None:
        return ""
    if isinstance(col.default, bool):
        return "TRUE" if col.default else "FALSE"
    if isinstance(col.default, float) and col.default.is_integer():
        return str(int(col.default))
    return str(col.default)


def _sheet(sheet: Sheet) -> str:
    need = "required" if sheet.required else "optional"
    lines = [f"### {sheet.name} ({need})", "", sheet.purpose, ""]
    if sheet.stage_columns:
        lines += ["Then one column per stage, named by the stage id: the facility that "
                  "performs that stage on the route, or blank where the route skips it. "
                  "At least one facility; each facility's stage must match its column.", ""]
    lines += ["| column | kind | unit | default | refers to | meaning |",
              "|---|---|---|---|---|---|"]
    for col in sheet.columns:
        name = f"`{col.name}`" + (" (required)" if col.required else "")
        kind = col.kind + (f": {', '.join(col.choices)}" if col.choices else "")
        lines.append("| " + " | ".join(_cell(x) for x in (
            name, kind, col.unit, _default(col), col.ref or "", col.help)) + " |")
    if sheet.name == "Settings":
        lines += ["", "| setting | kind | meaning |", "|---|---|---|"]
        lines += [f"| `{k}` | {kind} | {_cell(text)} |"
                  for k, (kind, text) in SETTING_KEYS.items()]
    return "\n".join(lines) + "\n"


def render() -> str:
    """The whole of docs/workbook.md."""
    parts = [INTRO, "\n## Input sheets\n\nKinds: `id` case-sensitive text; `label` a "
             "period label; `number` a non-negative number; `share` a fraction in [0, 1]; "
             "`rate` a non-negative fraction (may exceed 1); `bool` TRUE/FALSE; `tags` a "
             "comma-separated list; `choice` one of the values listed.\n"]
    parts += ["\n" + _sheet(s) for s in SHEETS]
    parts.append("\n" + SCENARIO_PROSE + "\n" + MODEL_HEAD)
    sign = {1.0: "+", -1.0: "-"}
    parts.append("\n".join(f"| {sign[p.sign]} {p.component} | {p.column} | {p.kind} | "
                           f"{_cell(p.algebra)} |" for p in COST_PARTS))
    parts.append(CONSTRAINTS_HEAD)
    parts.append("\n".join(
        f"| {f.key} | {f.kind or '(internal)'} | {f.sheet} | ({', '.join(f.index)}) | "
        f"{_cell(f.algebra)} | {f.dual_unit} |" for f in FAMILIES))
    parts.append("\n\nOffers also bound each flow: min_volume x k(o,t) x y(t) <= x(o,t) "
                 "(must-take offers) and x(o,t) <= max_volume x y(t).\n")
    parts.append(REPORT)
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Write docs/workbook.md (or the path given)."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else Path(__file__).resolve().parents[1] / "docs" / \
        "workbook.md"
    target.write_text(render(), encoding="utf-8")
    print(f"Wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
