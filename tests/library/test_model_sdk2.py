"""The operation model of Mobile Token SDK 2.x/3.x: screen lists, alerts, templates, fraud data."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mtoken.attributes import attribute_text
from mtoken.errors import BadResponseError, InvalidInputError
from mtoken.mobile_token_data import ScreenVisit, mobile_token_data, parse_screen_visits
from mtoken.model import (
    AlertAttribute,
    ApproveControl,
    DeclineControl,
    PreApprovalScreenType,
    ScreenControls,
    ScreenElement,
    UnknownAttribute,
    parse_attribute,
    parse_operation,
)
from mtoken.templates import fill_placeholders

FIXTURE = (
    Path(__file__).parents[1] / "fixtures" / "operations" / "sdk2-screens-alerts-templates.json"
)


def raw_operation() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(FIXTURE.read_text("utf-8"))["responseObject"][0]
    return raw


def with_ui(**ui: Any) -> dict[str, Any]:
    raw = raw_operation()
    raw["ui"] = ui
    return raw


# --- pre-approval screens ---------------------------------------------------------------


def test_every_screen_of_the_list_is_read_in_order_with_its_elements_and_controls() -> None:
    operation = parse_operation(raw_operation())
    assert operation.ui is not None
    warning, scan = operation.ui.screens

    assert (warning.id, warning.type, warning.back_button, warning.image) == (
        "warning-1",
        PreApprovalScreenType.WARNING,
        True,
        "shield",
    )
    assert warning.elements == (
        ScreenElement(
            "ALERT", id="e1", style="DANGER", text="Hang up if someone tells you to approve."
        ),
        ScreenElement(
            "BUTTON",
            id="e2",
            action="PHONE",
            action_settings="REJECT",
            text="Call the bank",
            href="+420800123456",
        ),
        ScreenElement(
            "LIST_ITEM",
            id="e3",
            icon="money",
            style="WARNING",
            text="The money leaves your account at once",
        ),
        ScreenElement("CAROUSEL", id="e4", text="Pictures", extra={"pictures": 3}),
    )
    assert warning.controls == ScreenControls(
        flip=True,
        axis="VERTICAL",
        approve=ApproveControl("SLIDER", "Slide to continue", 5),
        decline=DeclineControl("REJECT", "Reject payment"),
    )
    assert warning.extra == {"animation": "shake"}
    assert (scan.id, scan.type, scan.elements, scan.controls) == (
        "scan-1",
        PreApprovalScreenType.QR_SCAN,
        None,
        None,
    )


def test_a_qr_scan_screen_in_the_list_requires_a_proximity_code() -> None:
    assert parse_operation(raw_operation()).requires_proximity_check is True
    info = {"type": "INFO", "heading": "H", "message": "M"}
    assert parse_operation(with_ui(preApprovalScreens=[info])).requires_proximity_check is False


def test_a_qr_scan_in_the_old_single_screen_still_counts_beside_a_list() -> None:
    single = {"type": "QR_SCAN", "heading": "Scan", "message": "Scan it"}
    info = {"type": "INFO", "heading": "H", "message": "M"}
    operation = parse_operation(with_ui(preApprovalScreen=single, preApprovalScreens=[info]))

    assert operation.ui is not None
    assert [screen.heading for screen in operation.ui.screens] == ["H"]  # the list wins for display
    assert operation.requires_proximity_check is True


def test_the_single_screen_alone_is_the_one_screen_to_show() -> None:
    single = {
        "type": "WARNING",
        "heading": "Careful",
        "message": "M",
        "items": ["a"],
        "approvalType": "SLIDER",
    }
    operation = parse_operation(with_ui(preApprovalScreen=single))

    assert operation.ui is not None
    (screen,) = operation.ui.screens
    assert (screen.items, screen.approval_type) == (("a",), "SLIDER")


@pytest.mark.parametrize(
    "element",
    [
        {"type": "ALERT", "id": "e1", "text": 12},
        {"type": "BUTTON", "href": ["tel:1"], "text": "Call"},
        {"type": 7, "text": "odd type"},
        {"type": None, "text": "no type"},
        {"text": "no type at all", "style": {"color": "red"}},
    ],
)
def test_a_malformed_element_keeps_every_field_and_the_operation_survives(
    element: dict[str, Any],
) -> None:
    screen = {"id": "s", "type": "INFO", "heading": "H", "message": "M", "elements": [element]}
    raw = with_ui(preApprovalScreens=[screen])
    operation = parse_operation(raw)

    assert operation.ui is not None
    (parsed,) = operation.ui.screens[0].elements or ()
    assert parsed.malformed is True
    written = operation.to_dict()["ui"]["preApprovalScreens"][0]["elements"][0]
    assert parse_operation(operation.to_dict()) == operation
    assert {k: v for k, v in written.items() if k in element} == element
    assert set(written) - set(element) <= {"type"}


@pytest.mark.parametrize(
    ("ui", "field"),
    [
        ({"preApprovalScreens": {"type": "INFO"}}, "ui.preApprovalScreens"),
        ({"preApprovalScreens": ["INFO"]}, r"ui.preApprovalScreens\[0\]"),
        ({"preApprovalScreens": [{"type": "INFO", "heading": "H"}]}, r"\[0\].message"),
        (
            {
                "preApprovalScreens": [
                    {"type": "INFO", "heading": "H", "message": "M", "elements": "x"}
                ]
            },
            r"\[0\].elements",
        ),
        (
            {
                "preApprovalScreens": [
                    {"type": "INFO", "heading": "H", "message": "M", "elements": [3]}
                ]
            },
            r"\[0\].elements\[0\]",
        ),
        (
            {
                "preApprovalScreens": [
                    {
                        "type": "INFO",
                        "heading": "H",
                        "message": "M",
                        "controls": {"approve": {"counter": "5"}},
                    }
                ]
            },
            r"controls.approve.counter",
        ),
        (
            {
                "preApprovalScreens": [
                    {
                        "type": "INFO",
                        "heading": "H",
                        "message": "M",
                        "controls": {"approve": {"counter": -1}},
                    }
                ]
            },
            r"controls.approve.counter",
        ),
        (
            {
                "preApprovalScreens": [
                    {"type": "INFO", "heading": "H", "message": "M", "controls": {"flip": 1}}
                ]
            },
            r"controls.flip",
        ),
        (
            {
                "preApprovalScreens": [
                    {"type": "INFO", "heading": "H", "message": "M", "backButton": "yes"}
                ]
            },
            r"\[0\].backButton",
        ),
    ],
)
def test_malformed_screens_and_controls_fail_with_the_field_named(
    ui: dict[str, Any], field: str
) -> None:
    with pytest.raises(BadResponseError, match=field):
        parse_operation(with_ui(**ui))


def test_unknown_fields_of_controls_are_kept_as_sent() -> None:
    controls = {
        "haptics": True,
        "approve": {"type": "HOLD", "text": "Hold", "holdSeconds": 2},
        "decline": {"type": "CLOSE", "icon": "x"},
    }
    screen = {"id": "s", "type": "INFO", "heading": "H", "message": "M", "controls": controls}
    operation = parse_operation(with_ui(preApprovalScreens=[screen]))

    assert operation.ui is not None
    parsed = operation.ui.screens[0].controls
    assert parsed is not None
    assert parsed.approve == ApproveControl("HOLD", "Hold", None, {"holdSeconds": 2})
    assert operation.to_dict()["ui"]["preApprovalScreens"][0]["controls"] == controls


def test_an_unknown_screen_type_is_kept_as_sent() -> None:
    screen = {"type": "SELFIE", "heading": "H", "message": "M"}
    operation = parse_operation(with_ui(preApprovalScreens=[screen]))

    assert operation.ui is not None
    assert operation.ui.screens[0].type is PreApprovalScreenType.UNKNOWN
    assert operation.to_dict()["ui"]["preApprovalScreens"] == [screen]


def test_the_whole_sdk2_operation_writes_back_as_sent() -> None:
    raw = raw_operation()
    operation = parse_operation(copy.deepcopy(raw))

    dates = {
        "operationCreated": "2026-11-30T09:59:00+00:00",
        "operationExpires": "2026-11-30T10:05:00+00:00",
    }
    assert operation.to_dict() == raw | dates
    assert parse_operation(json.loads(json.dumps(operation.to_dict()))) == operation


def test_block_approval_on_call_is_read() -> None:
    assert parse_operation(raw_operation()).block_approval_on_call is True
    assert parse_operation(with_ui()).block_approval_on_call is False


# --- ALERT attributes -------------------------------------------------------------------


def test_a_warning_screen_in_the_list_must_be_read_before_approval() -> None:
    warning = {"type": "WARNING", "heading": "Scam?", "message": "Hang up"}
    info = {"type": "INFO", "heading": "H", "message": "M"}

    assert parse_operation(with_ui(preApprovalScreens=[info, warning])).has_warning_screen is True
    assert parse_operation(with_ui(preApprovalScreens=[info])).has_warning_screen is False
    beside = with_ui(preApprovalScreen=warning, preApprovalScreens=[info])
    assert parse_operation(beside).has_warning_screen is True
    assert parse_operation(with_ui(preApprovalScreen=warning)).has_warning_screen is True


def test_alert_attribute_has_severity_title_and_message() -> None:
    alert = parse_operation(raw_operation()).form_data.attributes[2]

    assert alert == AlertAttribute(
        "operation.fraud",
        "Warning",
        alert_type="ERROR",
        message="Nobody from the bank asks you to move money.",
        title="Possible fraud",
    )
    assert alert.to_dict() == raw_operation()["formData"]["attributes"][2]


def test_alert_without_title_and_with_a_newer_severity() -> None:
    raw = {"type": "ALERT", "id": "a", "label": "L", "alertType": "CRITICAL", "message": "M"}
    assert parse_attribute(raw) == AlertAttribute("a", "L", alert_type="CRITICAL", message="M")


def test_a_notification_repeats_the_alert_title_and_message() -> None:
    alert = parse_operation(raw_operation()).form_data.attributes[2]
    assert attribute_text(alert) == ("Possible fraud: Nobody from the bank asks you to move money.")
    untitled = AlertAttribute("a", "L", alert_type="INFO", message="M")
    assert attribute_text(untitled) == "M"


@pytest.mark.parametrize(
    "raw",
    [
        {"type": "ALERT", "id": "a", "label": "L", "alertType": "INFO"},
        {"type": "ALERT", "id": "a", "label": "L", "message": "M"},
        {"type": "ALERT", "id": "a", "label": "L", "alertType": "INFO", "message": 5},
        {
            "type": "ALERT",
            "id": "a",
            "label": "L",
            "alertType": "INFO",
            "message": "M",
            "title": [],
        },
    ],
)
def test_malformed_alert_keeps_its_label_and_fields(raw: dict[str, Any]) -> None:
    parsed = parse_attribute(raw)
    assert isinstance(parsed, UnknownAttribute)
    assert parsed.label == "L"
    assert parsed.to_dict() == raw


# --- templates and status reason --------------------------------------------------------


def test_templates_for_the_list_and_the_detail() -> None:
    templates = parse_operation(raw_operation()).templates

    assert templates is not None
    assert templates.list is not None
    assert (templates.list.title, templates.list.image) == (
        "Pay ${operation.amount}",
        "operation.image",
    )
    assert templates.detail is not None
    assert templates.detail.show_title_and_message is False
    (section,) = templates.detail.sections
    assert section.title == "operation.heading"
    assert [(c.name, c.can_copy, c.collapsable) for c in section.cells] == [
        ("operation.amount", False, "NO"),
        ("operation.account", True, "COLLAPSED"),
    ]


@pytest.mark.parametrize(
    "templates",
    [
        "list",
        {"list": {"title": 3}},
        {"detail": {"sections": [{"cells": [{"style": "x"}]}]}},
        {"detail": {"sections": "none"}},
    ],
)
def test_malformed_templates_read_as_none_and_are_kept(templates: Any) -> None:
    raw = raw_operation()
    raw["templates"] = templates
    operation = parse_operation(raw)

    assert operation.templates is None
    assert operation.to_dict()["templates"] == templates


def test_placeholders_name_attributes() -> None:
    values = {"operation.amount": "1 500 Kč"}
    assert (
        fill_placeholders("Pay ${operation.amount} ${operation.gone}!", values) == "Pay 1 500 Kč !"
    )


def test_status_reason_is_read() -> None:
    raw = raw_operation() | {"status": "REJECTED", "statusReason": "POSSIBLE_FRAUD"}
    assert parse_operation(raw).status_reason == "POSSIBLE_FRAUD"


# --- mobileTokenData --------------------------------------------------------------------

OPENED = "2026-11-30T10:00:00Z"
CLOSED = "2026-11-30T10:00:07Z"


def test_screen_visits_become_the_sdk_record() -> None:
    visits = parse_screen_visits(
        [
            {
                "screen": "warning-1",
                "timestampOpened": OPENED,
                "timestampClosed": CLOSED,
                "action": "CONTINUE",
            },
            {"screen": "scan-1", "timestampOpened": CLOSED},
        ]
    )

    assert visits[0] == ScreenVisit(
        "warning-1",
        datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 10, 0, 7, tzinfo=UTC),
        "CONTINUE",
    )
    assert mobile_token_data(visits) == {
        "preApprovalScreens": [
            {
                "screen": "warning-1",
                "timestampOpened": OPENED,
                "timestampClosed": CLOSED,
                "action": "CONTINUE",
            },
            {"screen": "scan-1", "timestampOpened": CLOSED},
        ]
    }
    assert mobile_token_data(()) is None


@pytest.mark.parametrize(
    "value",
    [
        "warning-1",
        [{"screen": "s"}],
        [{"screen": "", "timestampOpened": OPENED}],
        [{"screen": "s" * 65, "timestampOpened": OPENED}],
        [{"screen": "s", "timestampOpened": "yesterday"}],
        [{"screen": "s", "timestampOpened": OPENED, "action": 3}],
        [["s", OPENED]],
        [{"screen": "s", "timestampOpened": OPENED}] * 101,
    ],
)
def test_bad_screen_visits_are_refused(value: Any) -> None:
    with pytest.raises(InvalidInputError):
        parse_screen_visits(value)
