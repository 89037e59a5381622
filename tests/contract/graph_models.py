"""The contract oracle: JSON bodies checked against the official Microsoft Graph SDK models.

``msgraph-sdk`` (v1.0) and ``msgraph-beta-sdk`` (beta) are generated from Microsoft's
OpenAPI description of Graph, one model class per Graph type. Each instance lists its
properties in ``get_field_deserializers()``: ``{"jsonName": lambda parse_node: ...}``.

How a property's type is found: each deserializer is a one-line lambda that calls exactly
one ``ParseNode`` method (``get_str_value()``, ``get_object_value(ChatInfo)``,
``get_collection_of_object_values(MeetingParticipantInfo)``, ``get_enum_value(E)``...).
:class:`_RecordingNode` is a ``ParseNode`` stand-in that records that call, so the oracle
reads the type the SDK itself would deserialise into. This is the SDK's own code path, so
it is more robust than parsing the lambdas' source or the models' string type hints (which
need the lazy ``from .x import X`` imports of ``get_field_deserializers`` to resolve).
``@odata.type`` in a body selects a derived type through the model's own
``create_from_discriminator_value``, again with a recording node.
"""

from __future__ import annotations

import datetime
import enum
import functools
import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The SDK package of each Graph API version.
SDK_PACKAGES = {"v1.0": "msgraph", "beta": "msgraph_beta"}
#: Request bodies that are not ``models`` (operation parameters): name -> module path under ``generated``.
REQUEST_BODIES = {
    "createOrGetPostRequestBody": (
        "users.item.online_meetings.create_or_get.create_or_get_post_request_body",
        "CreateOrGetPostRequestBody",
    ),
    "cancelPostRequestBody": ("users.item.events.item.cancel.cancel_post_request_body", "CancelPostRequestBody"),
}
_OBJECT = ("get_object_value",)
_OBJECTS = ("get_collection_of_object_values",)
_ENUM = ("get_enum_value",)
_ENUMS = ("get_collection_of_enum_values",)
_PRIMITIVES = ("get_collection_of_primitive_values",)
_ITEM_READER = {
    "get_collection_of_object_values": "get_object_value",
    "get_collection_of_enum_values": "get_enum_value",
}
_TEXT = (
    "get_str_value",
    "get_uuid_value",
    "get_bytes_value",
    "get_date_value",
    "get_time_value",
    "get_timedelta_value",
)


class ContractViolation(AssertionError):
    """A body uses a property or a value its Graph API version does not define."""


@dataclass(frozen=True)
class Field:
    """How the SDK reads one property.

    :param reader: the ``ParseNode`` method the SDK calls, e.g. ``get_object_value``.
    :param target: its argument: a model class, an enum class, a primitive type or ``None``.
    """

    reader: str
    target: Any = None

    @property
    def model(self) -> type | None:
        """The nested model class for object (and object collection) properties."""
        return self.target if self.reader in _OBJECT + _OBJECTS else None


class _RecordingNode:
    """A ``ParseNode`` that records the first method called on it, and answers ``None``."""

    def __init__(self, odata_type: str | None = None) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self._odata_type = odata_type

    def get_child_node(self, name: str) -> _RecordingNode:
        return self

    def get_str_value(self) -> str | None:  # used by create_from_discriminator_value
        self.calls.append(("get_str_value", ()))
        return self._odata_type

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any) -> None:
            self.calls.append((name, args))

        return record


def type_name(cls: type) -> str:
    """Graph's name of a model class: ``MeetingParticipants`` -> ``meetingParticipants``."""
    name = cls.__name__
    return name[:1].lower() + name[1:]


def _module_name(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@functools.cache
def model_class(version: str, name: str) -> type:
    """The SDK model class of Graph type ``name`` (``meetingParticipants``) in ``version``."""
    if version not in SDK_PACKAGES:
        raise ValueError(f"unknown Graph API version {version!r}; expected one of {list(SDK_PACKAGES)}")
    package = f"{SDK_PACKAGES[version]}.generated"
    if name in REQUEST_BODIES:
        module, class_name = REQUEST_BODIES[name]
        return getattr(importlib.import_module(f"{package}.{module}"), class_name)
    module = importlib.import_module(f"{package}.models.{_module_name(name)}")
    return getattr(module, name[:1].upper() + name[1:])


@functools.cache
def fields(cls: type) -> dict[str, Field]:
    """Every property of a model class (JSON name -> :class:`Field`), inherited ones included."""
    result = {}
    for json_name, deserialize in cls().get_field_deserializers().items():
        node = _RecordingNode()
        deserialize(node)
        reader, args = node.calls[0]
        result[json_name] = Field(reader, args[0] if args else None)
    return result


def _derived(cls: type, odata_type: Any, path: str, version: str) -> tuple[type, list[str]]:
    if not isinstance(odata_type, str):
        return cls, [f"{path}.@odata.type: expected a string, got {type(odata_type).__name__}"]
    factory = getattr(cls, "create_from_discriminator_value", None)
    derived = type(factory(_RecordingNode(odata_type))) if factory else cls
    if derived is cls and odata_type.lstrip("#") != f"microsoft.graph.{type_name(cls)}":
        return cls, [
            f"{path}.@odata.type: {odata_type!r} is not {type_name(cls)} or a type derived from it in {version}"
        ]
    return derived, []


def _is_datetime(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    text = value.strip()
    text = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        datetime.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _enum_values(enum_class: type[enum.Enum]) -> set[str]:
    return {str(member.value) for member in enum_class}


def _check_value(value: Any, field: Field, path: str, version: str) -> list[str]:
    if value is None:  # JSON null clears a property; every property is nullable in the models
        return []
    reader, target = field.reader, field.target
    if reader in _OBJECT:
        if not isinstance(value, Mapping):
            return [f"{path}: expected a {type_name(target)} object, got {type(value).__name__}"]
        return violations(value, target, version, path)
    if reader in _OBJECTS + _ENUMS + _PRIMITIVES:
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        if reader in _PRIMITIVES:
            return [
                f"{path}[{i}]: expected {target.__name__}, got {type(item).__name__}"
                for i, item in enumerate(value)
                if not isinstance(item, target) or (isinstance(item, bool) and target is not bool)
            ]
        item_field = Field(_ITEM_READER[reader], target)
        problems: list[str] = []
        for i, item in enumerate(value):
            problems += _check_value(item, item_field, f"{path}[{i}]", version)
        return problems
    if reader in _ENUM:
        allowed = _enum_values(target)
        # Flags enums are serialised as comma-separated values.
        given = [part.strip() for part in value.split(",")] if isinstance(value, str) else [value]
        wrong = [part for part in given if part not in allowed]
        return [f"{path}: {v!r} is not a value of {type_name(target)} in {version} ({sorted(allowed)})" for v in wrong]
    if reader == "get_datetime_value":
        return [] if _is_datetime(value) else [f"{path}: {value!r} is not an ISO-8601 date-time"]
    expected: tuple[type, ...]
    if reader in _TEXT:
        expected = (str,)
    elif reader == "get_bool_value":
        expected = (bool,)
    elif reader == "get_int_value":
        expected = (int,)
    elif reader == "get_float_value":
        expected = (int, float)
    else:
        return [f"{path}: the oracle does not know the SDK reader {reader!r}"]
    if (isinstance(value, bool) and bool not in expected) or not isinstance(value, expected):
        return [f"{path}: expected {expected[0].__name__}, got {type(value).__name__} {value!r}"]
    return []


def violations(body: Any, cls: type, version: str, path: str = "") -> list[str]:
    """Every way ``body`` departs from model ``cls`` of ``version``, as readable lines."""
    if not isinstance(body, Mapping):
        return [f"{path or 'body'}: expected a {type_name(cls)} object, got {type(body).__name__}"]
    problems: list[str] = []
    if "@odata.type" in body:
        cls, problems = _derived(cls, body["@odata.type"], path or "body", version)
    known = fields(cls)
    for name, value in body.items():
        where = f"{path}.{name}" if path else name
        if name not in known:
            problems.append(f"{where} is not a property of {type_name(cls)} in {version}")
            continue
        if name != "@odata.type":
            problems += _check_value(value, known[name], where, version)
    return problems


class GraphContract:
    """Checks request bodies against the official model of a Graph API version."""

    versions = tuple(SDK_PACKAGES)

    def model(self, name: str, version: str) -> type:
        """The SDK model class of Graph type ``name`` in ``version``."""
        return model_class(version, name)

    def properties(self, name: str, version: str) -> dict[str, Field]:
        """The properties of Graph type ``name`` in ``version``."""
        return fields(model_class(version, name))

    def violations(self, body: Any, name: str, version: str) -> list[str]:
        """Every problem of ``body`` as Graph type ``name`` in ``version`` (empty: it conforms)."""
        return violations(body, model_class(version, name), version)

    def check(self, body: Any, name: str, version: str) -> None:
        """Raise :class:`ContractViolation` listing every problem of ``body``."""
        problems = self.violations(body, name, version)
        if problems:
            raise ContractViolation("; ".join(problems))
