"""Operation templates: how the bank wants an operation laid out (Mobile Token SDK 2.x).

An operation may carry ``templates`` with a ``list`` style (one row in the
list: ``header``, ``title``, ``message`` written with ``${attributeId}``
placeholders that name attributes of the form, and an ``image`` attribute id)
and a ``detail`` style (``showTitleAndMessage`` and ``sections``, each with an
optional ``title`` attribute id and ``cells`` naming attributes, with hints
``visibleTitle``, ``canCopy``, ``collapsable`` ``NO`` / ``COLLAPSED`` / ``YES``
and ``centered``). Attributes no section names are shown after the sections.

Templates only arrange what the form already says, so a malformed one never
fails the operation: it reads as no template, and the operation keeps the
raw value among its extra fields, untouched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from .errors import BadResponseError
from .jsonread import JsonDict, opt_bool, opt_dict, opt_str, put, req_str

#: ``${operation.amount}`` in a list template names the attribute ``operation.amount``.
PLACEHOLDER: Final = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class ListTemplate:
    """One row of the operation list."""

    style: str | None = None
    header: str | None = None
    title: str | None = None
    message: str | None = None
    image: str | None = None

    def to_dict(self) -> JsonDict:
        """Return the wire ``list`` object."""
        out: JsonDict = {}
        for key in ("style", "header", "title", "message", "image"):
            put(out, key, getattr(self, key))
        return out


@dataclass(frozen=True)
class TemplateCell:
    """One attribute in a detail section, with its display hints."""

    name: str
    style: str | None = None
    visible_title: bool | None = None
    can_copy: bool | None = None
    collapsable: str | None = None
    centered: bool | None = None

    def to_dict(self) -> JsonDict:
        """Return the wire cell."""
        out: JsonDict = {"name": self.name}
        put(out, "style", self.style)
        put(out, "visibleTitle", self.visible_title)
        put(out, "canCopy", self.can_copy)
        put(out, "collapsable", self.collapsable)
        put(out, "centered", self.centered)
        return out


@dataclass(frozen=True)
class TemplateSection:
    """A group of cells, titled by an attribute (usually a HEADING)."""

    style: str | None = None
    title: str | None = None
    cells: tuple[TemplateCell, ...] = ()

    def to_dict(self) -> JsonDict:
        """Return the wire section."""
        out: JsonDict = {}
        put(out, "style", self.style)
        put(out, "title", self.title)
        out["cells"] = [cell.to_dict() for cell in self.cells]
        return out


@dataclass(frozen=True)
class DetailTemplate:
    """The operation's detail: whether to show title and message, and its sections."""

    style: str | None = None
    show_title_and_message: bool | None = None
    sections: tuple[TemplateSection, ...] = ()

    def to_dict(self) -> JsonDict:
        """Return the wire ``detail`` object."""
        out: JsonDict = {}
        put(out, "style", self.style)
        put(out, "showTitleAndMessage", self.show_title_and_message)
        out["sections"] = [section.to_dict() for section in self.sections]
        return out


@dataclass(frozen=True)
class Templates:
    """The ``templates`` object of an operation."""

    list: ListTemplate | None = None
    detail: DetailTemplate | None = None

    def to_dict(self) -> JsonDict:
        """Return the wire ``templates`` object."""
        out: JsonDict = {}
        put(out, "list", None if self.list is None else self.list.to_dict())
        put(out, "detail", None if self.detail is None else self.detail.to_dict())
        return out


def _list_of_objects(obj: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise BadResponseError(f"{where}.{key} must be a list of objects")
    return value


def _parse_cell(obj: Mapping[str, Any], where: str) -> TemplateCell:
    return TemplateCell(
        name=req_str(obj, "name", where),
        style=opt_str(obj, "style", where),
        visible_title=opt_bool(obj, "visibleTitle", where),
        can_copy=opt_bool(obj, "canCopy", where),
        collapsable=opt_str(obj, "collapsable", where),
        centered=opt_bool(obj, "centered", where),
    )


def _parse_section(obj: Mapping[str, Any], where: str) -> TemplateSection:
    cells = _list_of_objects(obj, "cells", where)
    return TemplateSection(
        style=opt_str(obj, "style", where),
        title=opt_str(obj, "title", where),
        cells=tuple(_parse_cell(c, f"{where}.cells[{i}]") for i, c in enumerate(cells)),
    )


def parse_templates(obj: Any) -> Templates:
    """Read ``templates``; raise BadResponseError naming the first bad field."""
    where = "templates"
    if not isinstance(obj, Mapping):
        raise BadResponseError(f"{where} must be an object")
    listed = opt_dict(obj, "list", where)
    detail = opt_dict(obj, "detail", where)
    list_template = None
    if listed is not None:
        list_template = ListTemplate(
            *(
                opt_str(listed, key, f"{where}.list")
                for key in ("style", "header", "title", "message", "image")
            )
        )
    detail_template = None
    if detail is not None:
        sections = _list_of_objects(detail, "sections", f"{where}.detail")
        detail_template = DetailTemplate(
            style=opt_str(detail, "style", f"{where}.detail"),
            show_title_and_message=opt_bool(detail, "showTitleAndMessage", f"{where}.detail"),
            sections=tuple(
                _parse_section(s, f"{where}.detail.sections[{i}]") for i, s in enumerate(sections)
            ),
        )
    return Templates(list_template, detail_template)


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """Replace ``${attributeId}`` with the attribute's text; unknown ones become empty."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), ""), text)
