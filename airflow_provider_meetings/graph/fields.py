"""One field of the Graph resource a result holds, read as an attribute of the result.

The results of every resource keep Graph's JSON as it answered (``meeting``, ``event``) and
name a few of its fields the Python way (``meeting_id`` for ``id``, ``web_link`` for
``webLink``). :class:`ResourceField` is that naming, written once: ``None`` when the result
holds no resource (an error, a cancel) or the resource lacks the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, overload

__all__ = ["ResourceField"]


class ResourceField:
    """A read-only attribute: ``getattr(result, holder).get(key)``, ``None`` without a resource.

    :param holder: the result's attribute that holds Graph's JSON, e.g. ``"event"``
    :param key: the field of that JSON, as Graph spells it, e.g. ``"iCalUId"``
    :param doc: the attribute's docstring
    """

    def __init__(self, holder: str, key: str, doc: str) -> None:
        self.holder = holder
        self.key = key
        self.__doc__ = doc

    @overload
    def __get__(self, result: None, owner: type | None = None) -> ResourceField: ...

    @overload
    def __get__(self, result: object, owner: type | None = None) -> str | None: ...

    def __get__(self, result: object | None, owner: type | None = None) -> Any:
        if result is None:  # on the class: the descriptor itself, for help() and Sphinx
            return self
        resource = getattr(result, self.holder)
        return resource.get(self.key) if isinstance(resource, Mapping) else None
