"""National Provider Identifiers: the Luhn check digit over the 80840 prefix."""

from __future__ import annotations

import numpy as np

NPI_PREFIX = "80840"


def npi_check_digit(base9: str) -> int:
    """The check digit of a 9-digit NPI base (Luhn over ``80840`` + base, as CMS specifies)."""
    if len(base9) != 9 or not base9.isdigit():
        raise ValueError("an NPI base is 9 digits")
    total = 0
    for i, ch in enumerate(reversed(NPI_PREFIX + base9)):
        d = int(ch)
        if (
            i % 2 == 0
        ):  # the rightmost payload digit is doubled (the check digit will follow it)
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def is_valid_npi(npi: str) -> bool:
    """True for a 10-digit NPI whose last digit is the Luhn check digit of the first nine."""
    return (
        len(npi) == 10
        and npi.isdigit()
        and npi[0] in "12"
        and npi_check_digit(npi[:9]) == int(npi[9])
    )


def make_npis(
    rng: np.random.Generator, count: int, first_digit: str = "1"
) -> list[str]:
    """``count`` distinct valid NPIs starting with ``first_digit`` (1 for people, 1 or 2 for orgs)."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < count:
        base = first_digit + "".join(str(d) for d in rng.integers(0, 10, 8))
        if base in seen:
            continue
        seen.add(base)
        out.append(base + str(npi_check_digit(base)))
    return out
