"""Claim-level KPIs by any dimension, read from the one model that defines them.

Each KPI is a ratio of two parts counted in ``marts.mart_claim_kpis`` (docs/metrics.md gives the
standard each follows): the model defines the parts and the rates, one row per week and member
of a dimension, and the weekly marts and the weekly report read it. ``kpi_by`` adds up the
model's weekly parts for any range of weeks, by one dimension and/or the week, so "initial
denial rate by department and week" or "overturn rate by payer" is the same figure the marts
and the report show, never a second computation of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from transforms.errors import ConfigError

KPI_TABLE = "marts.mart_claim_kpis"


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    numerator: str  # a part (column) of KPI_TABLE
    denominator: str
    standard: str
    unit: str = "ratio"


KPIS: dict[str, Kpi] = {
    k.name: k
    for k in (
        Kpi("initial_denial_rate", "Initial denial rate (claims)", "claims_denied", "claims_adjudicated",
            "HFMA Claim Integrity Task Force"),
        Kpi("initial_denial_rate_dollars", "Initial denial rate ($)", "charges_denied", "charges_adjudicated",
            "HFMA Claim Integrity Task Force"),
        Kpi("denied_dollar_rate", "Denied $ / charges", "denied_amount", "charges_adjudicated",
            "HFMA Claim Integrity Task Force (dollar basis)"),
        Kpi("overturn_rate", "Denial overturn rate", "claims_overturned", "claims_denied", "HFMA Claim Integrity Task Force"),
    )
}

# the dimensions of KPI_TABLE (its `dimension` column), and "week": the ISO week of the initial adjudication
DIMENSIONS = ("week", "payer", "payer_type", "department", "location", "provider", "category", "carc", "procedure")


def kpi_by(
    con: duckdb.DuckDBPyConnection,
    kpi: str,
    by: list[str],
    weeks: tuple[str, str] | None = None,
    min_denominator: int = 1,
) -> list[dict]:
    """Rows of {dimension...: value, numerator, denominator, value}, largest denominator first.

    by: at most one dimension besides "week" (a payer is shown by its name).
    weeks: (first ISO week, last ISO week) of initial adjudication, inclusive.
    """
    if kpi not in KPIS:
        raise ConfigError(f"unknown KPI {kpi!r}; known: {', '.join(KPIS)}")
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ConfigError(f"unknown dimension(s) {', '.join(unknown)}; known: {', '.join(DIMENSIONS)}")
    slices = [d for d in by if d != "week"]
    if len(slices) > 1 or len(set(by)) < len(by):
        raise ConfigError(f"kpi_by slices by one dimension and/or the week, not {', '.join(by)}")
    k = KPIS[kpi]
    cols = ["iso_week AS week" if d == "week" else f"any_value(member_name) AS {d}" for d in by]
    group = ["iso_week" if d == "week" else "member" for d in by]
    where, params = "window_weeks = 1 AND dimension = ?", [slices[0] if slices else "all"]
    if weeks:
        where += " AND iso_week BETWEEN ? AND ?"
        params += list(weeks)
    sql = f"""
        SELECT {', '.join(cols + [''])} sum({k.numerator}) AS numerator, sum({k.denominator}) AS denominator
        FROM {KPI_TABLE} WHERE {where} {f"GROUP BY {', '.join(group)}" if group else ""}
        HAVING sum({k.denominator}) >= ?
        ORDER BY denominator DESC{''.join(f', {i + 1}' for i in range(len(by)))}"""
    cur = con.execute(sql, params + [min_denominator])
    names = [d[0] for d in cur.description]
    out = []
    for r in cur.fetchall():
        row = dict(zip(names, r, strict=True))
        row["value"] = float(row["numerator"]) / float(row["denominator"]) if row["denominator"] else None
        out.append(row)
    return out
