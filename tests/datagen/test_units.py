"""Small properties of the building blocks."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from datagen.npi import is_valid_npi, make_npis, npi_check_digit
from datagen.x12_writer import cas_segments, money


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_money_is_exact(cents: int) -> None:
    text = money(cents)
    assert Decimal(text) == Decimal(cents) / 100
    assert len(text.split(".")[1]) == 2


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_npi_check_digit_makes_a_valid_npi(base: str) -> None:
    npi = base + str(npi_check_digit(base))
    assert is_valid_npi(npi) == (npi[0] in "12")
    wrong = base + str((npi_check_digit(base) + 1) % 10)
    assert not is_valid_npi(wrong)


def test_make_npis_distinct_and_valid() -> None:
    npis = make_npis(np.random.default_rng(1), 200)
    assert len(set(npis)) == 200 and all(is_valid_npi(n) for n in npis)


@given(
    st.lists(
        st.tuples(st.sampled_from(["CO", "PR", "OA", "PI"]), st.sampled_from(["45", "1", "2", "3", "197"]),
                  st.integers(-10**7, 10**7)),
        min_size=1,
        max_size=20,
    )
)  # fmt: skip
def test_cas_segments_keep_every_amount(adjs: list[tuple[str, str, int]]) -> None:
    text = cas_segments(adjs)
    total = Decimal(0)
    seen = 0
    for seg in text.split("~\n")[:-1]:
        parts = seg.split("*")
        assert parts[0] == "CAS" and len(parts) <= 2 + 3 * 6
        for k in range(2, len(parts), 3):
            total += Decimal(parts[k + 1])
            seen += 1
    assert seen == len(adjs)
    assert total == sum(Decimal(a) for _, _, a in adjs) / 100
