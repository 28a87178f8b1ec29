"""Vectors for the hash-based counter CTR_DATA."""

from itertools import pairwise
from typing import Any

import pytest

from mtoken.counter import advance_counter, next_counter

pytestmark = pytest.mark.vectors


@pytest.mark.vector_file("powerauth/generated/hash_counter.json")
def test_counter_chain(case: dict[str, Any]) -> None:
    sequence = [bytes.fromhex(item) for item in case["sequence_hex"]]
    assert sequence[0] == bytes.fromhex(case["initial_ctr_data_hex"])
    for current, following in pairwise(sequence):
        assert next_counter(current) == following
    assert advance_counter(sequence[0], len(sequence) - 1) == sequence[-1]
