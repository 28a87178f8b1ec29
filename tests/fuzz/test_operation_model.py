"""The operation JSON model (mobile-token-api.md §2): random trees and mutated operations.

``parse_operation`` and ``parse_operation_list`` either return operations or
raise BadResponseError, never anything else, and whatever they accept
writes back to the wire form and reads back equal (``to_dict``).
"""

import copy
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mtoken.dates import parse_datetime
from mtoken.errors import BadResponseError
from mtoken.model import Operation, parse_attribute, parse_operation, parse_operation_list

from .support import fuzz, json_scalars, json_trees, refused_or

OPERATION_KEYS = [
    "id",
    "name",
    "data",
    "status",
    "statusReason",
    "operationCreated",
    "operationExpires",
    "allowedSignatureType",
    "type",
    "variants",
    "formData",
    "title",
    "message",
    "attributes",
    "resultTexts",
    "label",
    "amount",
    "currency",
    "amountFormatted",
    "sourceAmount",
    "targetCurrency",
    "dynamic",
    "partyInfo",
    "ui",
    "preApprovalScreen",
    "postApprovalScreen",
    "payload",
    "heading",
    "items",
    "countdown",
    "preApprovalScreens",
    "elements",
    "controls",
    "approve",
    "counter",
    "templates",
    "sections",
    "cells",
    "alertType",
    "text",
]
WIRE_WORDS = st.sampled_from(
    [
        "1FA",
        "2FA",
        "ECDSA",
        "possession_knowledge",
        "possession_biometry",
        "AMOUNT",
        "AMOUNT_CONVERSION",
        "KEY_VALUE",
        "NOTE",
        "HEADING",
        "PARTY_INFO",
        "IMAGE",
        "ALERT",
        "REVIEW",
        "MERCHANT_REDIRECT",
        "GENERIC",
        "QR_SCAN",
        "LIST_ITEM",
        "BUTTON",
        "SLIDER",
        "PENDING",
        "2018-07-02T14:43:13+0000",
        "2024-02-30T00:00:00Z",
    ]
)
operation_like_trees = st.recursive(
    json_scalars | WIRE_WORDS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(OPERATION_KEYS) | st.text(max_size=5), children, max_size=8),
    max_leaves=30,
)

# --- valid operations, field by field ----------------------------------------------------

text = st.text(max_size=10)
numbers = st.integers(min_value=-(10**12), max_value=10**12) | st.floats(
    allow_nan=False, allow_infinity=False, width=64
)
dates = st.sampled_from(
    ["2018-07-02T14:43:13+0000", "2030-01-01T00:00:00Z", "2024-05-06T07:08:09.123456789+02:00"]
) | st.integers(min_value=0, max_value=4 * 10**12)


def _money(prefix: str = "") -> st.SearchStrategy[dict[str, Any]]:
    def key(name: str) -> str:
        return f"{prefix}{name[0].upper()}{name[1:]}" if prefix else name

    return st.fixed_dictionaries(
        {key("amount"): numbers, key("currency"): text},
        optional={key("amountFormatted"): text, key("valueFormatted"): text},
    )


def _attribute(type_: str, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"type": st.just(type_), "id": text, "label": text, **fields})


attributes = st.one_of(
    st.tuples(_attribute("AMOUNT"), _money()).map(lambda pair: pair[0] | pair[1]),
    st.tuples(_attribute("AMOUNT_CONVERSION", dynamic=st.booleans()), _money("source")).flatmap(
        lambda pair: _money("target").map(lambda target: pair[0] | pair[1] | target)
    ),
    _attribute("KEY_VALUE", value=text),
    _attribute("NOTE", note=text),
    _attribute("HEADING", level=st.integers(min_value=1, max_value=6)),
    _attribute(
        "PARTY_INFO",
        partyInfo=st.fixed_dictionaries(
            {"logoUrl": text, "name": text, "description": text}, optional={"websiteUrl": text}
        ),
    ),
    _attribute("IMAGE", thumbnailUrl=text),
    _attribute("ALERT"),
)
post_approval_screens = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("REVIEW"),
            "heading": text,
            "message": text,
            "payload": st.fixed_dictionaries({"attributes": st.lists(attributes, max_size=2)}),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("MERCHANT_REDIRECT"),
            "heading": text,
            "message": text,
            "payload": st.fixed_dictionaries(
                {"redirectText": text, "redirectUrl": text, "countdown": st.integers(0, 60)}
            ),
        }
    ),
    st.fixed_dictionaries(
        {"type": st.just("GENERIC"), "heading": text, "message": text, "payload": json_trees()}
    ),
)
ui = st.fixed_dictionaries(
    {},
    optional={
        "flipButtons": st.booleans(),
        "blockApprovalOnCall": st.booleans(),
        "preApprovalScreen": st.fixed_dictionaries(
            {
                "type": st.sampled_from(["INFO", "WARNING", "QR_SCAN", "OTHER"]),
                "heading": text,
                "message": text,
            },
            optional={"items": st.lists(text, max_size=3), "approvalType": text},
        ),
        "postApprovalScreen": post_approval_screens,
    },
)
valid_operations = st.fixed_dictionaries(
    {
        "id": text,
        "name": text,
        "data": text,
        "allowedSignatureType": st.fixed_dictionaries(
            {
                "type": st.sampled_from(["1FA", "2FA", "ECDSA"]),
                "variants": st.lists(
                    st.sampled_from(["possession", "possession_knowledge", "possession_biometry"])
                    | text,
                    max_size=3,
                ),
            }
        ),
        "formData": st.fixed_dictionaries(
            {"title": text, "message": text, "attributes": st.lists(attributes, max_size=4)},
            optional={
                "resultTexts": st.fixed_dictionaries(
                    {}, optional={"success": text, "failure": text, "reject": text}
                )
            },
        ),
    },
    optional={
        "status": st.sampled_from(["PENDING", "APPROVED", "CANCELED", "SOMETHING_NEW"]),
        "statusReason": text,
        "operationCreated": dates,
        "operationExpires": dates,
        "ui": ui,
        "customField": json_trees(),
    },
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON tree (object keys and list indexes), the root excluded."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict | list):
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            found.append((*prefix, key))
            found.extend(_paths(child, (*prefix, key)))
    return found


@st.composite
def mutated_operations(draw: st.DrawFn) -> Any:
    """A valid operation with one value replaced by random JSON, or one key removed."""
    operation = copy.deepcopy(draw(valid_operations))
    path = draw(st.sampled_from(_paths(operation)))
    parent = operation
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(operation_like_trees)
    return operation


def _check_accepted(operation: Operation) -> None:
    """Accepted operations write back and read back exactly (malformed rows included)."""
    assert parse_operation(operation.to_dict()) == operation
    operation.summary()
    now = datetime.now(UTC)
    operation.is_expired(now)


@fuzz
@given(operation_like_trees)
def test_random_trees_are_refused_with_bad_response(value: Any) -> None:
    operation = refused_or(parse_operation, value, error=BadResponseError)
    if operation is not None:
        _check_accepted(operation)
    listed = refused_or(parse_operation_list, value, error=BadResponseError)
    assert listed is None or isinstance(value, list)


@fuzz
@given(valid_operations)
def test_valid_operations_parse_and_round_trip(value: dict[str, Any]) -> None:
    _check_accepted(parse_operation(value))


@fuzz
@given(mutated_operations())
def test_mutated_operations_are_refused_with_bad_response_or_round_trip(value: Any) -> None:
    operation = refused_or(parse_operation, value, error=BadResponseError)
    if operation is not None:
        _check_accepted(operation)


@fuzz
@given(st.lists(valid_operations | mutated_operations(), max_size=4))
def test_operation_lists_fail_whole_or_parse_every_item(values: list[Any]) -> None:
    operations = refused_or(parse_operation_list, values, error=BadResponseError)
    if operations is not None:
        assert len(operations) == len(values)


@fuzz
@given(operation_like_trees)
def test_attributes_never_raise(value: Any) -> None:
    assert parse_attribute(value).to_dict()["label"] is not None


@fuzz
@given(json_scalars | dates | st.text("0123456789-T:+Z.z", max_size=32))
def test_dates_are_aware_or_refused_with_bad_response(value: Any) -> None:
    parsed = refused_or(parse_datetime, value, error=BadResponseError)
    assert parsed is None or parsed.tzinfo is not None
