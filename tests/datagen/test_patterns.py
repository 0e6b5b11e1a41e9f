"""The planted patterns are visible in the files: in scope, the CARC's initial-denial rate after
the start week is clearly above the rate before it (and, for a wave, falls back after its end)."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from tests.datagen.helpers import payments_that_count, read_csv, read_remittances


def in_scope(claim: dict[str, str], scope: dict) -> bool:
    if claim["payer_type"] == "self_pay" or claim["frequency_code"] != "1":
        return False
    checks = {
        "payer_id": "payer_id",
        "department": "department",
        "location": "location",
        "claim_type": "claim_type",
    }
    return all(scope[k] is None or claim[col] == scope[k] for k, col in checks.items())


def weekly_rates(dataset: Path, pattern: dict) -> dict[str, list[int]]:
    """ISO submission week -> [adjudicated in scope, with the CARC on the initial adjudication]."""
    claims = read_csv(dataset / "claims/claims.csv")
    first = {}
    for st in sorted(
        payments_that_count(read_remittances(dataset / "remittances")),
        key=lambda t: t.payment_date,
    ):
        for c in st.claims:
            first.setdefault(c.claim_id, c)
    scope = pattern["scope"]
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c in claims:
        if not in_scope(c, scope) or c["claim_id"] not in first:
            continue
        y, w, _ = date.fromisoformat(c["submission_date"]).isocalendar()
        row = out[f"{y}-W{w:02d}"]
        row[0] += 1
        row[1] += any(
            g in ("CO", "PI", "OA") and r == scope["carc"]
            for g, r, _ in first[c["claim_id"]].all_adjustments()
        )
    return out


def z_score(k1: int, n1: int, k2: int, n2: int) -> float:
    p = (k1 + k2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return (k2 / n2 - k1 / n1) / se


@pytest.mark.parametrize("index", range(3))
def test_pattern_visible(dataset: Path, truth: dict, index: int) -> None:
    pattern = truth["patterns"][index]
    series = weekly_rates(dataset, pattern)
    start, end = pattern["start_week"], pattern["end_week"]
    before = [v for w, v in series.items() if w < start]
    window = [v for w, v in series.items() if w >= start and (end is None or w < end)]
    n1, k1 = sum(v[0] for v in before), sum(v[1] for v in before)
    n2, k2 = sum(v[0] for v in window), sum(v[1] for v in window)
    assert (n1, k1) == (
        pattern["realised"]["before"]["claims_adjudicated"],
        pattern["realised"]["before"]["claims_with_carc"],
    )
    assert (n2, k2) == (
        pattern["realised"]["window"]["claims_adjudicated"],
        pattern["realised"]["window"]["claims_with_carc"],
    )
    assert pattern["elevated_rate"] > 3 * pattern["baseline_rate"]
    assert k2 / n2 > 3 * max(k1 / n1, 0.005)
    assert z_score(k1, n1, k2, n2) > 4
    # a p-chart with limits from the weeks before flags most weeks of the window
    p_bar = max(k1 / n1, 1 / n1)
    flagged = sum(
        k / n > p_bar + 3 * math.sqrt(p_bar * (1 - p_bar) / n) for n, k in window if n
    )
    assert flagged >= len(window) / 2
    if end is not None:
        after = [v for w, v in series.items() if w >= end]
        n3, k3 = sum(v[0] for v in after), sum(v[1] for v in after)
        assert n3 and k3 / n3 < k2 / n2 / 2


def test_patterns_described(truth: dict) -> None:
    keys = {p["key"] for p in truth["patterns"]}
    assert len(keys) == 3
    for p in truth["patterns"]:
        assert (
            p["start_week"].count("-W") == 1
            and date.fromisoformat(p["start_monday"]).weekday() == 0
        )
        assert set(p["scope"]) >= {
            "payer_id",
            "department",
            "location",
            "category",
            "carc",
        }
        assert p["expected_extra_denials"] > 10
    scopes = {p["scope"]["carc"] for p in truth["patterns"]}
    assert scopes == {"197", "29", "16"}
