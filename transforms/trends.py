"""Trend detection: is a weekly denial rate out of control, since when, and by how much?

For every series (all claims; each payer; each root-cause category; each payer and category;
each department and category; each location and category) the weekly initial denial rate is
compared with its own baseline, as a p-chart does, with a test that holds for small counts:

* cohorts: claims are counted in the week they were first billed (their initial adjudication
  decides whether they were denied), so an alert's start week is the week the cause began
  (a payer's new rule, a coding change), not smeared by payers' adjudication lags;
* baseline: the pooled rate of the ``baseline_weeks`` weeks before the week tested (at least
  ``min_baseline_weeks`` of them with claims), shrunk toward the parent series' rate over the
  same weeks with the weight of ``PRIOR_CLAIMS`` claims (a payer's series toward all claims, a
  payer's category toward the category over all payers), so a small series whose baseline
  happened to be zero does not alert on its first few denials; the baseline is frozen while an
  alert runs, so a lasting shift does not become its own baseline;
* a week starts an alert when its rate is above the p-chart's upper 3-sigma limit for its own
  number of claims **and** the exact binomial probability of so many denials or more under the
  baseline rate is below ``alpha`` (the binomial test keeps weeks with few claims from raising
  alerts on one or two denials);
* a smaller shift that lasts also starts one: two or three weeks from that week on, each above
  the 1-sigma limit, whose pooled count has a binomial probability below ``alpha``;
* an alert runs from its first week until a week falls back under the 2-sigma limit.

Each alert says who (scope), what (category), since when (start week), how much (baseline and
current rate, extra denied claims) and the dollars at stake (charges of the extra denials), in a
plain sentence.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import duckdb
from scipy.stats import binom

SCOPES = {
    # name: (SQL expression of the scope value, category-specific?, parent scope)
    "all": ("'all claims'", False, None),
    "payer": ("payer_name", False, "all"),
    "category": ("'all payers'", True, None),
    "payer_category": ("payer_name", True, "category"),
    "department_category": ("department", True, "category"),
    "location_category": ("location", True, "category"),
    "payer_department_category": ("payer_name || ' / ' || department", True, "category"),
}
PRIOR_CLAIMS = 100  # weight, in claims, of the parent series' rate in a baseline


@dataclass(frozen=True)
class Alert:
    scope: str  # one of SCOPES
    subject: str  # the payer, department or location ('all payers' / 'all claims')
    category: str | None
    start_week: str
    last_week: str
    weeks: int
    baseline_rate: float
    current_rate: float
    claims: int
    denied: int
    expected_denied: float
    extra_denied: float
    dollars_at_stake: float
    p_value: float
    ongoing: bool  # still above its limits in the latest week tested
    sentence: str

    def as_dict(self) -> dict:
        return asdict(self)


def _series(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str | None], list[tuple[str, int, int, float]]]:
    """{(scope, subject, category): [(bill week, claims, denied, denied charges)]} for every series,
    weeks in order, including weeks with no denial (zero counts)."""
    weeks = [r[0] for r in con.execute(
        "SELECT iso_week FROM intermediate.int_calendar_weeks WHERE is_complete ORDER BY week_start").fetchall()]
    # the last weeks' cohorts are mostly not adjudicated yet: a week is tested once its cohort of
    # adjudicated claims has reached half the median cohort size (later weeks wait for next time)
    sizes = dict(con.execute("SELECT bill_week, count(*) FROM marts.mart_claim_facts GROUP BY 1").fetchall())
    if sizes:
        median = sorted(sizes.values())[len(sizes) // 2]
        last = max((w for w in weeks if sizes.get(w, 0) >= median / 2), default=None)
        weeks = [w for w in weeks if last is not None and w <= last]
    # every scope is a grouping of payer, department and location: the claims are counted once by
    # week and those three (and by category for the initial denials), and each series summed from that
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _trend_claims AS
        SELECT bill_week AS iso_week, payer_name, department, location, count(*) AS claims,
               count(*) FILTER (WHERE initially_denied) AS denied,
               coalesce(sum(charge_amount) FILTER (WHERE initially_denied), 0) AS dollars
        FROM marts.mart_claim_facts GROUP BY ALL""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _trend_categories AS
        SELECT f.bill_week AS iso_week, f.payer_name, f.department, f.location, c.category,
               count(*) AS denied, sum(f.charge_amount) AS dollars
        FROM marts.mart_claim_facts AS f
        JOIN (SELECT DISTINCT claim_family_id, category FROM intermediate.int_denial_events WHERE kind = 'initial') AS c
          USING (claim_family_id)
        GROUP BY ALL""")
    out: dict[tuple[str, str, str | None], dict[str, tuple[int, int, float]]] = {}
    try:
        for scope, (expr, by_cat, _) in SCOPES.items():
            totals = con.execute(f"""
                SELECT iso_week, {expr} AS subject, sum(claims)::BIGINT, sum(denied)::BIGINT, sum(dollars)
                FROM _trend_claims GROUP BY ALL""").fetchall()
            if by_cat:
                # denominator: the subject's claims; numerator: those initially denied with the category
                rows = con.execute(f"""
                    SELECT iso_week, {expr} AS subject, category, sum(denied)::BIGINT, sum(dollars)
                    FROM _trend_categories GROUP BY ALL""").fetchall()
                claims_of = {(wk, subj): claims for wk, subj, claims, _, _ in totals}
                seen_cats: dict[str, set[str]] = {}
                for wk, subj, cat, denied, dollars in rows:
                    out.setdefault((scope, subj, cat), {})[wk] = (claims_of[(wk, subj)], denied, float(dollars or 0))
                    seen_cats.setdefault(subj, set()).add(cat)
                for wk, subj, claims, _, _ in totals:
                    for cat in seen_cats.get(subj, ()):
                        out[(scope, subj, cat)].setdefault(wk, (claims, 0, 0.0))
            else:
                for wk, subj, claims, denied, dollars in totals:
                    out.setdefault((scope, subj, None), {})[wk] = (claims, denied, float(dollars))
    finally:
        con.execute("DROP TABLE IF EXISTS _trend_claims")
        con.execute("DROP TABLE IF EXISTS _trend_categories")
    return {key: [(w, *vals[w]) for w in weeks if w in vals] for key, vals in out.items()}


def _limit(p: float, n: int, sigmas: float) -> float:
    return p + sigmas * math.sqrt(max(p * (1 - p), 1e-12) / n)


def detect(
    con: duckdb.DuckDBPyConnection,
    baseline_weeks: int = 8,
    min_baseline_weeks: int = 4,
    alpha: float = 1e-5,
    min_extra: float = 3.0,
) -> list[Alert]:
    """Every alert over the warehouse's completed weeks, most dollars at stake first."""
    alerts: list[Alert] = []
    series = _series(con)
    for (scope, subject, category), points in series.items():
        parent_scope = SCOPES[scope][2]
        parent = None
        if parent_scope is not None:
            parent_subject = "all claims" if parent_scope == "all" else "all payers"
            parent = dict((p[0], p) for p in series.get((parent_scope, parent_subject, category), []))
        alerts.extend(_scan(scope, subject, category, points, baseline_weeks, min_baseline_weeks, alpha, min_extra, parent))
    alerts.sort(key=lambda a: (-a.dollars_at_stake, a.start_week))
    return alerts


def _baseline(base: list, parent: dict | None) -> float:
    n, x = sum(b[1] for b in base), sum(b[2] for b in base)
    if parent is None:
        return x / n
    pn = sum(parent[b[0]][1] for b in base if b[0] in parent)
    px = sum(parent[b[0]][2] for b in base if b[0] in parent)
    prior = px / pn if pn else x / n
    return (x + PRIOR_CLAIMS * prior) / (n + PRIOR_CLAIMS)


def _scan(scope, subject, category, points, baseline_weeks, min_baseline_weeks, alpha, min_extra, parent=None) -> list[Alert]:
    """Walk the weeks in order. At week i, with the baseline of the weeks before it, look at the
    windows that start at i (1, 2 and 3 weeks long): a window whose every week is above the
    baseline's 1-sigma limit and whose pooled count has a binomial tail probability below alpha
    (or a single week above the 3-sigma limit with the same test) starts an alert at week i.
    The alert runs while the weeks stay above the 2-sigma limit; the baseline stays frozen."""
    found = []
    i = 0
    while i < len(points):
        base = [p for p in points[max(0, i - baseline_weeks):i] if p[1] > 0]
        if len(base) < min_baseline_weeks or points[i][1] == 0:
            i += 1
            continue
        p0 = _baseline(base, parent)
        if p0 <= 0:
            i += 1
            continue
        started = False
        for k in (1, 2, 3):
            window = points[i:i + k]
            if len(window) < k or any(n == 0 for _, n, _, _ in window):
                break
            limit = 3 if k == 1 else 1
            if not all(x / n > _limit(p0, n, limit) for _, n, x, _ in window):
                continue
            n_w, x_w = sum(w[1] for w in window), sum(w[2] for w in window)
            if binom.sf(x_w - 1, n_w, p0) < alpha:
                started = True
                break
        if not started:
            i += 1
            continue
        j = i
        while j + 1 < len(points) and points[j + 1][1] and points[j + 1][2] / points[j + 1][1] > _limit(p0, points[j + 1][1], 2):
            j += 1
        run = points[i:j + 1]
        n_run, x_run = sum(r[1] for r in run), sum(r[2] for r in run)
        expected = p0 * n_run
        extra = x_run - expected
        if extra >= min_extra:
            dollars = sum(r[3] for r in run) * (extra / x_run if x_run else 0)
            found.append(_alert(scope, subject, category, run, p0, n_run, x_run, expected, extra, dollars,
                                float(binom.sf(x_run - 1, n_run, p0)), ongoing=j == len(points) - 1))
        i = j + 1
    return found


def _alert(scope, subject, category, run, p0, n_run, x_run, expected, extra, dollars, p_value, ongoing=False) -> Alert:
    what = f"{category.replace('_', ' ')} denials" if category else "initial denials"
    who = subject if scope != "category" else "all payers"
    since = run[0][0]
    rate = x_run / n_run
    weeks = len(run)
    span = f"since {since}" if ongoing else f"from {since} to {run[-1][0]}"
    sentence = (
        f"{who}: {what} rose from {p0:.1%} to {rate:.1%} of claims billed {span}"
        f" ({weeks} week{'s' if weeks > 1 else ''}, {extra:.0f} more denied claims than usual,"
        f" ${dollars:,.0f} at stake)."
    )
    return Alert(scope, subject, category, since, run[-1][0], weeks, p0, rate, n_run, x_run, expected, extra,
                 round(dollars, 2), p_value, ongoing, sentence)


def write_alerts(con: duckdb.DuckDBPyConnection, alerts: list[Alert]) -> int:
    """Replace marts.mart_trend_alerts with these alerts (one transaction)."""
    import pyarrow as pa

    cols = list(Alert.__dataclass_fields__)
    table = pa.Table.from_pylist([a.as_dict() for a in alerts], schema=pa.schema([
        ("scope", pa.string()), ("subject", pa.string()), ("category", pa.string()), ("start_week", pa.string()),
        ("last_week", pa.string()), ("weeks", pa.int32()), ("baseline_rate", pa.float64()),
        ("current_rate", pa.float64()), ("claims", pa.int64()), ("denied", pa.int64()),
        ("expected_denied", pa.float64()), ("extra_denied", pa.float64()), ("dollars_at_stake", pa.float64()),
        ("p_value", pa.float64()), ("ongoing", pa.bool_()), ("sentence", pa.string()),
    ]))
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("__alerts", table)
        con.execute(f"CREATE OR REPLACE TABLE marts.mart_trend_alerts AS SELECT {', '.join(cols)} FROM __alerts")
        con.unregister("__alerts")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(alerts)
