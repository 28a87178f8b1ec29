"""Polling reuses operations the server sent unchanged, and parses changed ones anew."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mtoken.errors import BadResponseError
from mtoken.model import OperationListParser

FIXTURES = Path(__file__).parents[1] / "fixtures" / "operations"


def raw_list() -> list[dict[str, Any]]:
    data = json.loads((FIXTURES / "list-payment-login.json").read_text())
    return data["responseObject"] if isinstance(data, dict) else data


def test_unchanged_operations_are_reused() -> None:
    parser = OperationListParser()
    first = parser.parse(raw_list())
    assert parser.unknown_count(raw_list()) == 0
    second = parser.parse(raw_list())
    assert second == first
    assert all(a is b for a, b in zip(first, second, strict=True))


def test_changed_operation_is_parsed_anew() -> None:
    parser = OperationListParser()
    first = parser.parse(raw_list())
    changed = raw_list()
    changed[0]["formData"]["title"] = "Changed title"
    assert parser.unknown_count(changed) == 1
    second = parser.parse(changed)
    assert second[0].form_data.title == "Changed title"
    assert second[1:] == first[1:]


def test_bad_operation_is_named_and_nothing_is_remembered() -> None:
    parser = OperationListParser()
    broken = copy.deepcopy(raw_list())
    del broken[1]["data"]
    with pytest.raises(BadResponseError, match="operation #1"):
        parser.parse(broken)
    assert parser.unknown_count(raw_list()) == len(raw_list())
