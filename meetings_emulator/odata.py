"""OData in Graph URLs: query options, string literals, paging links and ``@odata.context``.

The one place the Graph handlers read a request's query options. Graph's system query
options "are compatible with the OData V4 query language"
(https://learn.microsoft.com/graph/query-parameters): ``$top`` and ``$skip`` are whole numbers
(OData ABNF: ``1*DIGIT``), a string literal is quoted with ``'`` and a quote inside is
doubled. A route reads only the options it knows; others are ignored, as Graph's unsupported
query parameters "might fail silently" (same page, "Error handling for query parameters").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qs, urlencode

from meetings_emulator.errors import bad_request
from meetings_emulator.messages import GraphRequest

_COUNT_RE = re.compile(r"^[0-9]+$")


def _parsed(request: GraphRequest) -> dict[str, list[str]]:
    """Every value of each query parameter, by name, decoded once (``%24top`` is ``$top``). A
    name encoded twice (``%2524top``) stays ``%24top``: a parameter no route reads, which Graph
    ignores ("might fail silently", query-parameters, "Error handling for query parameters")."""
    return parse_qs(request.query, keep_blank_values=True)


def query_options(request: GraphRequest) -> dict[str, str]:
    """The request's query parameters by name, the first value of each (for a next link)."""
    return {name: values[0] for name, values in _parsed(request).items()}


def query_option(request: GraphRequest, name: str) -> str | None:
    """One query option a route reads (``$filter``, ``$select``, ``startDateTime``...), or ``None``.

    A system query option (``$...``) given twice is Graph's 400: "The same system query option
    [...] MUST NOT be specified more than once" (OData 4.01 URL conventions, 5.1 "System Query
    Options"), answered "Query option '$top' was specified more than once, but it must be
    specified at most once." as users report (microsoftgraph/msgraph-sdk-php#127,
    microsoftgraph/msgraph-sdk-java#336).
    """
    values = _parsed(request).get(name)
    if not values:
        return None
    if len(values) > 1 and name.startswith("$"):
        raise bad_request(f"Query option '{name}' was specified more than once, but it must be specified at most once.")
    return values[0]


def _count(request: GraphRequest, name: str) -> int | None:
    text = query_option(request, name)
    if text is None:
        return None
    if not _COUNT_RE.match(text):
        raise bad_request(f"Invalid value '{text}' for {name} query option.")
    return int(text)


def top_option(request: GraphRequest, maximum: int | None = None) -> int | None:
    """``$top``: a whole number from 1 (to ``maximum``), or ``None`` when absent; else Graph's 400."""
    top = _count(request, "$top")
    if top is not None and (top < 1 or (maximum is not None and top > maximum)):
        raise bad_request(f"Invalid value '{top}' for $top query option.")
    return top


def skip_option(request: GraphRequest) -> int:
    """``$skip``: a whole number (0 when absent); else Graph's 400."""
    return _count(request, "$skip") or 0


def select_option(request: GraphRequest) -> list[str] | None:
    """The property names of ``$select``, in the order sent, or ``None`` when it names none."""
    names = [n.strip() for n in (query_option(request, "$select") or "").split(",") if n.strip()]
    return names or None


def string_literal(group: str) -> str:
    """A regular expression for one OData string literal, its content in the group ``group``."""
    return rf"'(?P<{group}>(?:[^']|'')*)'"


def literal_value(text: str) -> str:
    """The value of a string literal's content: a doubled quote is one quote."""
    return text.replace("''", "'")


def context_url(base_url: str, request: GraphRequest, tail: str) -> str:
    """``@odata.context``: ``{base}/{version}/$metadata#{tail}``."""
    return f"{base_url}/{request.version}/$metadata#{tail}"


def next_link(base_url: str, request: GraphRequest, options: Mapping[str, str]) -> str:
    """``@odata.nextLink``: this request's URL with its query options, ``options`` replacing theirs.

    Clients follow it as is (https://learn.microsoft.com/graph/paging); ``$`` stays unencoded
    as in the page's examples.
    """
    query = urlencode({**query_options(request), **options}, safe="$")
    return f"{base_url}/{request.version}{request.path}?{query}"
