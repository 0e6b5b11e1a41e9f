"""Claim-level KPIs, defined once, sliceable by any dimension of marts.mart_claim_facts.

Each KPI is a ratio of two aggregates over claim families (docs/metrics.md gives the standard
each follows). ``kpi_by`` groups by any of DIMENSIONS, so "initial denial rate by department and
week" and "overturn rate by payer" come from the same definition the weekly marts use.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from transforms.errors import ConfigError

FACTS = "marts.mart_claim_facts"


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    numerator: str  # SQL aggregate over FACTS
    denominator: str
    standard: str
    unit: str = "ratio"  # ratio | days


KPIS: dict[str, Kpi] = {
    k.name: k
    for k in (
        Kpi("initial_denial_rate", "Initial denial rate (claims)", "count(*) FILTER (WHERE initially_denied)",
            "count(*)", "HFMA Claim Integrity Task Force"),
        Kpi("initial_denial_rate_dollars", "Initial denial rate ($)",
            "coalesce(sum(charge_amount) FILTER (WHERE initially_denied), 0)", "sum(charge_amount)",
            "HFMA Claim Integrity Task Force"),
        Kpi("denied_dollar_rate", "Denied $ / charges", "coalesce(sum(initial_denied_amount), 0)", "sum(charge_amount)",
            "HFMA Claim Integrity Task Force (dollar basis)"),
        Kpi("overturn_rate", "Denial overturn rate", "count(*) FILTER (WHERE overturned)",
            "count(*) FILTER (WHERE initially_denied)", "HFMA Claim Integrity Task Force"),
        Kpi("days_to_payment", "Days to payment", "sum(days_to_payment)", "count(days_to_payment)", "-", "days"),
        Kpi("denial_days_to_resolution", "Denial days to resolution", "sum(days_to_resolution)",
            "count(days_to_resolution)", "HFMA Claim Integrity Task Force", "days"),
    )
}

DIMENSIONS = {
    "week": "iso_week",
    "payer": "payer_name",
    "payer_type": "payer_type",
    "department": "department",
    "location": "location",
    "provider": "provider_npi",
    "category": "category",
    "carc": "reason",
    "procedure": "procedure_code",
}


def kpi_by(
    con: duckdb.DuckDBPyConnection,
    kpi: str,
    by: list[str],
    weeks: tuple[str, str] | None = None,
    min_denominator: int = 1,
) -> list[dict]:
    """Rows of {dimension...: value, numerator, denominator, value}, largest denominator first.

    weeks: (first ISO week, last ISO week) of initial adjudication, inclusive.
    """
    if kpi not in KPIS:
        raise ConfigError(f"unknown KPI {kpi!r}; known: {', '.join(KPIS)}")
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ConfigError(f"unknown dimension(s) {', '.join(unknown)}; known: {', '.join(DIMENSIONS)}")
    k = KPIS[kpi]
    cols = [f"{DIMENSIONS[d]} AS {d}" for d in by]
    where, params = "", []
    if weeks:
        where, params = "WHERE iso_week BETWEEN ? AND ?", list(weeks)
    group = f"GROUP BY {', '.join(str(i + 1) for i in range(len(by)))}" if by else ""
    sql = f"""
        SELECT {', '.join(cols + [''])} {k.numerator} AS numerator, {k.denominator} AS denominator
        FROM {FACTS} {where} {group}
        HAVING {k.denominator} >= ?
        ORDER BY denominator DESC{''.join(f', {i + 1}' for i in range(len(by)))}"""
    cur = con.execute(sql, params + [min_denominator])
    names = [d[0] for d in cur.description]
    out = []
    for r in cur.fetchall():
        row = dict(zip(names, r, strict=True))
        row["value"] = float(row["numerator"]) / float(row["denominator"]) if row["denominator"] else None
        out.append(row)
    return out
