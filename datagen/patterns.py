"""Planted patterns: changes in initial denial rates, on top of the steady-state noise, that the
pipeline's trend charts are expected to find.

A pattern sets, for the claims in its scope submitted from its start week (and before its end
week, if any), the probability that the *initial* adjudication carries one denial reason. The
baseline is whatever the steady-state model gives for the same claims; both are reported in the
ground truth together with what was realised in the generated files.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pattern:
    key: str
    description: str
    reason: str  # a key of reference.DENIAL_REASONS
    elevated_rate: float  # probability of that reason for in-scope claims in the window
    # index of the first affected submission week (0 = the first generated week)
    start_week: int
    # first week no longer affected (None: lasts to the end)
    end_week: int | None = None
    # None: every payer that is billed (self-pay is never billed)
    payer_id: str | None = None
    department: str | None = None
    location: str | None = None
    claim_type: str | None = None  # professional | institutional | None


def default_patterns(weeks: int) -> tuple[Pattern, ...]:
    """The three planted patterns, placed relative to the generated window."""

    def at(fraction: float) -> int:
        return max(1, min(weeks - 1, round(weeks * fraction)))

    wave_start = at(0.62)
    wave_end = max(wave_start + 1, at(0.85))
    return (
        Pattern(
            key="auth_jump_northstar_radiology",
            description=(
                "NORTHSTAR HEALTH PLAN starts requiring prior authorisation for advanced imaging: "
                "CO-197 (authorisation absent) denials of Radiology claims jump from the start week."
            ),
            reason="AUTH197",
            elevated_rate=0.50,
            start_week=at(0.40),
            payer_id="NSH01",
            department="RADIOLOGY",
        ),
        Pattern(
            key="timely_filing_south_clinic",
            description=(
                "A billing backlog at the South Community Clinic: claims go out past the payers' "
                "filing limits and come back CO-29 (timely filing) from the start week."
            ),
            reason="TF29",
            elevated_rate=0.10,
            start_week=at(0.35),
            location="SOUTH",
        ),
        Pattern(
            key="missing_info_wave_rendering_npi",
            description=(
                "A practice-management upgrade drops the rendering provider from professional claims: "
                "a wave of CO-16 denials with RARC N290 (LQ*HE) across all payers until a fix."
            ),
            reason="MI16_N290",
            elevated_rate=0.06,
            start_week=wave_start,
            end_week=wave_end,
            claim_type="professional",
        ),
    )
