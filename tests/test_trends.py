"""Trend detection on series built with known rates (the statistics alone, no warehouse)."""

from __future__ import annotations

import numpy as np

from transforms.trends import _scan


def weeks(n: int) -> list[str]:
    return [f"2026-W{i + 1:02d}" for i in range(n)]


def series(rates: list[float], claims: int, seed: int) -> list[tuple[str, int, int, float]]:
    rng = np.random.default_rng(seed)
    return [(w, claims, int(rng.binomial(claims, r)), 100.0 * claims) for w, r in zip(weeks(len(rates)), rates, strict=True)]


def scan(points):
    return _scan("payer", "P", "authorization_referral", points, 8, 4, 1e-5, 3.0)


def test_finds_a_step_and_its_start_week():
    # 5% for 12 weeks, then 12% for 8 weeks, 150 claims a week
    found = scan(series([0.05] * 12 + [0.12] * 8, 150, seed=1))
    assert len(found) >= 1
    first = found[0]
    assert first.start_week in ("2026-W13", "2026-W14")
    assert first.baseline_rate < 0.08 and first.current_rate > 0.09
    assert "since 2026-W1" in first.sentence and "at stake" in first.sentence


def test_small_counts_do_not_alert_on_one_denial():
    # 2% baseline on 10 claims a week: one or two denials in a week is noise
    pts = [(w, 10, 0, 0.0) for w in weeks(12)] + [("2026-W13", 10, 2, 200.0)]
    assert scan(pts) == []


def test_few_false_alarms_without_a_shift():
    # 300 series of 26 steady weeks (about 5,000 weeks tested): at most 5 alerts in all
    alerts = sum(len(scan(series([0.08] * 26, 120, seed=s))) for s in range(300))
    assert alerts <= 5


def test_detects_most_steps_within_a_week_of_their_start():
    # 50 series, 5% -> 12% at week 13: the start week is found within one week in at least 80%
    ok = 0
    for s in range(50):
        found = scan(series([0.05] * 12 + [0.12] * 8, 150, seed=100 + s))
        ok += bool(found) and found[0].start_week in ("2026-W12", "2026-W13", "2026-W14")
    assert ok >= 40
