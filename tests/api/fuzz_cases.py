"""Hostile input for every operation of the API's OpenAPI description (issue 14): non-finite
numbers and large bodies, shared by tests/api/test_fuzz.py (the app in process) and
bench/fuzz_api.py (a real server).

Schemathesis draws finite numbers only (its float strategies pass ``allow_nan=False,
allow_infinity=False``; no setting turns them on) and bodies of a few hundred bytes. So:

- ``add_non_finite(schema)`` hooks into its generation: half the JSON bodies it draws get a
  NaN, Infinity or -Infinity in place of one of their values (or under a new key), and half the
  query strings get ``NaN``, ``inf``, ``1e999`` ... in one parameter. Such a body is handed to
  schemathesis already serialized, by ``json.dumps``, as the bare tokens ``NaN``, ``Infinity``,
  ``-Infinity`` (what FastAPI's JSON parser reads back as floats): schemathesis sends bytes as
  they are, while its transport would refuse to write a NaN itself (``allow_nan=False``).
- ``hostile(openapi, known)`` lists explicit requests for whatever operations the description
  holds when it runs: the non-finite tokens (and ``1e999``, plain JSON that overflows to an
  infinity) in every query and path parameter (there also ``³``, a digit ``int`` refuses), as
  a whole body, in each top-level field alone and at every place of a valid body (``BASES``,
  the schema's example); and large bodies to every POST: 5 MB declared, 2 MB streamed without
  a length, and under the 1 MiB cap a 900 kB string in each field, a 900 kB unknown key, 15,000
  to 90,000 unknown keys, 15,000 to 500,000 items in each array field, 300,000 nested arrays. A
  large body must get a small 4xx that does not quote it (``problems``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import strategies as st

from tests.processes import SHARING

LIMIT = 2.0 * SHARING  # seconds: every answer, whatever the input
NON_FINITE = (math.nan, math.inf, -math.inf)
TOKENS = ("NaN", "Infinity", "-Infinity")  # json.dumps's spelling of NON_FINITE
QUERY_TOKENS = ("NaN", "nan", "Infinity", "-Infinity", "inf", "1e999")
# and numbers only Python calls digits ("³".isdigit(), but int("³") raises), and an id too big
PATH_TOKENS = (*QUERY_TOKENS, "³", "①", "٣", "99999999999999999999")
FILL = "x"  # large strings are made of it; an answer holding 100 in a row quotes the input
MB = 1_000_000


@dataclass(frozen=True)
class Hostile:
    """One request: ``what`` names it in a failure."""

    what: str
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    stream: bool = False  # sent in 64 kB chunks, without a Content-Length
    large: bool = False  # must be a 4xx of at most 4 kB that does not quote the body
    kind: str = "non-finite"  # which list it is from: non-finite, bounds or large


# -- hooks on schemathesis's own generation -----------------------------------------------------


def add_non_finite(schema: Any) -> None:
    """Register hooks on ``schema`` (for it alone) that put non-finite numbers into half of the
    JSON bodies and half of the query strings it generates (the fuzzing phase's cases)."""

    @schema.hook
    def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
        if isinstance(body, bytes | bytearray):
            return st.just(body)
        return st.one_of(st.just(body), _poisoned(body))

    @schema.hook
    def flatmap_query(context: Any, query: Any) -> st.SearchStrategy[Any]:
        if not isinstance(query, dict) or not query:
            return st.just(query)
        poisoned = st.builds(
            lambda name, token: {**query, name: token},
            st.sampled_from(sorted(query)),
            st.sampled_from(QUERY_TOKENS),
        )
        return st.one_of(st.just(query), poisoned)


def has_non_finite(value: Any) -> bool:
    """Whether a JSON value (or a body serialized as bytes) holds a NaN or an infinity."""
    if isinstance(value, bytes):
        try:
            value = json.loads(value)
        except ValueError:
            return False
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(has_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(has_non_finite(v) for v in value)
    return False


def _poisoned(body: Any) -> st.SearchStrategy[Any]:
    places = list(_places(body))
    return st.builds(
        lambda at, number: _serialized(_put(body, at, number), body),
        st.sampled_from(places),
        st.sampled_from(NON_FINITE),
    )


def _serialized(poisoned: Any, body: Any) -> Any:
    """``poisoned`` as JSON bytes, or ``body`` as drawn when it is not plain JSON."""
    try:
        return json.dumps(poisoned).encode()
    except (TypeError, ValueError):
        return body


def _places(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place of a JSON value: itself, each member and item, and a new key per object."""
    yield at
    if isinstance(value, dict):
        yield (*at, "fuzz_non_finite")
        for key, member in value.items():
            yield from _places(member, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _places(item, (*at, index))


def _put(value: Any, at: tuple[Any, ...], new: Any) -> Any:
    """A copy of ``value`` with ``new`` at ``at``."""
    if not at:
        return new
    head, rest = at[0], at[1:]
    if isinstance(value, dict):
        return {**value, head: _put(value.get(head), rest, new)}
    items = list(value)
    items[head] = _put(items[head], rest, new)
    return items


# -- explicit requests ---------------------------------------------------------------------------


# Valid bodies the non-finite numbers go into, beside each schema's own example: a NaN in an
# otherwise valid body reaches the route itself, not only the validation of a missing field.
BASES: dict[str, dict[str, Any]] = {
    "POST /schedules/preview": {
        "schedule": {"family": "plateau", "factor": 0.5},
        "total_steps": 100,
        "base_lr": 0.1,
        "steps_per_epoch": 10,
        "metrics": [0.5, 0.6],
    },
    "POST /leases/{lease}/report": {"epoch": 1, "value": 0.5},
    "POST /leases/{lease}/finish": {"state": "complete", "value": 0.5, "reason": "done"},
}


def hostile(openapi: dict[str, Any], known: dict[str, str]) -> Iterator[Hostile]:
    """Non-finite numbers and large bodies for every operation in ``openapi``; path parameters
    take their value from ``known`` (a study, a lease ...), else ``fuzz``."""
    yield from non_finite(openapi, known)
    yield from bounds(openapi, known)
    yield from large(openapi, known)


def non_finite(openapi: dict[str, Any], known: dict[str, str]) -> Iterator[Hostile]:
    """Each token in each query and path parameter; for a JSON body, the tokens as the body, in
    each top-level field alone, and at every place of each valid base (``BASES``, the schema's
    example): in place of each value, under a new key, in each field the base leaves out."""
    for method, path, operation in _operations(openapi):
        target = _fill(path, known)
        for parameter in operation.get("parameters", []):
            name, where = parameter["name"], parameter["in"]
            for token in QUERY_TOKENS if where == "query" else PATH_TOKENS:
                what = f"{method} {path}: {where} {name}={token}"
                if where == "query":
                    yield Hostile(what, method, target, params={name: token})
                elif where == "path":
                    yield Hostile(what, method, _fill(path, {**known, name: token}))
        fields, example = _body(openapi, operation)
        if fields is None:
            continue
        for text in [*TOKENS, "1e999", f"[{', '.join(TOKENS)}, -1e999]", '{"fuzz": NaN}']:
            yield Hostile(f"{method} {path}: body {text}", method, target, body=text.encode())
        bases = [b for b in (example, BASES.get(f"{method} {path}")) if b]
        places = [(None, (name,)) for name in fields]  # alone, without a base
        for i, base in enumerate(bases):
            places += [(i, at) for at in _places(base) if at]
            places += [(i, (name,)) for name in fields if name not in base]
        for i, at in places:
            where = ".".join(map(str, at)) + ("" if i is None else f" of base {i}")
            for number, token in zip(NON_FINITE, TOKENS, strict=True):
                text = json.dumps(_put({} if i is None else bases[i], at, number))
                spellings = {token: text}
                if math.isinf(number):  # also as plain JSON: 1e999 overflows to inf when parsed
                    plain = "1e999" if number > 0 else "-1e999"
                    spellings[plain] = text.replace(token, plain)
                for label, body in spellings.items():
                    yield Hostile(
                        f"{method} {path}: {label} at {where}", method, target, body=body.encode()
                    )


def bounds(openapi: dict[str, Any], known: dict[str, str]) -> Iterator[Hostile]:
    """Each number field of a JSON body at its documented bounds and far past them, alone and
    over each valid base: a value the schema allows can still derive one it does not (a
    budget of 10,000,000 epochs set n_trials past its 100,000)."""
    for method, path, operation in _operations(openapi):
        fields, example = _body(openapi, operation)
        if not fields:
            continue
        bases = [{}, *(b for b in (example, BASES.get(f"{method} {path}")) if b)]
        for name, schema in fields.items():
            for value in _extremes(openapi, schema):
                for i, base in enumerate(bases):
                    body = json.dumps({**base, name: value}).encode()
                    what = f"{method} {path}: {name}={value}" + (f" over base {i}" if i else "")
                    yield Hostile(what, method, _fill(path, known), body=body, kind="bounds")


def _extremes(openapi: dict[str, Any], schema: dict[str, Any]) -> list[int | float]:
    """A number field's bounds (inclusive or just inside the exclusive ones), 0, and 10**30
    either way; none for a field that is no number."""
    schema = _resolve(openapi, schema)
    options = [schema, *(_resolve(openapi, s) for s in schema.get("anyOf", []))]
    numbers = [o for o in options if o.get("type") in ("integer", "number")]
    if not numbers:
        return []
    found: list[int | float] = [0, 10**30, -(10**30)]
    for option in numbers:
        step = 1 if option["type"] == "integer" else 1e-9
        found += [option[k] for k in ("minimum", "maximum") if k in option]
        if "exclusiveMinimum" in option:
            found.append(option["exclusiveMinimum"] + step)
        if "exclusiveMaximum" in option:
            found.append(option["exclusiveMaximum"] - step)
    whole = all(o["type"] == "integer" for o in numbers)
    return list(dict.fromkeys(int(v) if whole else v for v in found))


def large(openapi: dict[str, Any], known: dict[str, str]) -> Iterator[Hostile]:
    for method, path, operation in _operations(openapi):
        if method != "POST":
            continue
        fields, _ = _body(openapi, operation)
        first = next(iter(fields or ()), "fuzz")
        bodies = [(f"5 MB string in {first}", json.dumps({first: FILL * (5 * MB)}))]
        if fields is not None:  # a route without a JSON body: only the declared length counts
            bodies.append(("2 MB array, streamed", "[" + ",".join(["1.0"] * (MB // 2)) + "]"))
            for name, schema in fields.items():
                bodies.append((f"900 kB string in {name}", json.dumps({name: FILL * 900_000})))
                if _is_array(openapi, schema):
                    for n in (15_000, 30_000, 500_000):
                        bodies.append((f"{n} items in {name}", _compact({name: [0] * n})))
            bodies.append(("900 kB unknown key", json.dumps({FILL * 900_000: 1})))
            for n in (15_000, 30_000, 90_000):
                bodies.append((f"{n} unknown keys", _compact({f"k{i}": 0 for i in range(n)})))
            bodies.append(("300,000 nested arrays", "[" * 300_000 + "]" * 300_000))
        for what, body in bodies:
            yield Hostile(
                f"{method} {path}: {what}",
                method,
                _fill(path, known),
                body=body.encode(),
                stream="streamed" in what,
                large=True,
                kind="large",
            )


def send(client: httpx.Client, request: Hostile, headers: dict[str, str]) -> tuple[int, str, float]:
    """Send ``request``; its status, its answer's text and its wall time in seconds."""
    content: bytes | Iterator[bytes] | None = request.body
    if request.body is not None:
        headers = {**headers, "Content-Type": "application/json"}
        if request.stream:
            body = request.body
            content = (body[i : i + 65536] for i in range(0, len(body), 65536))
    started = time.perf_counter()
    response = client.request(
        request.method, request.path, params=request.params, content=content, headers=headers
    )
    text = response.text
    return response.status_code, text, time.perf_counter() - started


def problems(request: Hostile, status: int, text: str, seconds: float) -> list[str]:
    """What is wrong with an answer: a 5xx, over ``LIMIT`` seconds, or for a large body
    anything but a small 4xx that does not quote it."""
    found = []
    if status >= 500:
        found.append(f"{request.what}: {status} {text[:200]}")
    if seconds >= LIMIT:
        found.append(f"{request.what}: {seconds:.2f} s")
    if request.large and not 400 <= status < 500:
        found.append(f"{request.what}: {status}, not a 4xx")
    if request.large and (len(text) > 4000 or FILL * 100 in text):
        found.append(f"{request.what}: the answer ({len(text)} characters) quotes the body")
    return found


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _operations(openapi: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in sorted(openapi.get("paths", {}).items()):
        for method, operation in sorted(item.items()):
            if method in ("get", "put", "post", "delete", "patch"):
                yield method.upper(), path, operation


def _fill(path: str, values: dict[str, str]) -> str:
    """``path`` with each ``{name}`` replaced by ``values[name]`` (else ``fuzz``)."""
    parts = path.split("/")
    for i, part in enumerate(parts):
        if part.startswith("{") and part.endswith("}"):
            parts[i] = quote(values.get(part[1:-1], "fuzz"), safe="")
    return "/".join(parts)


def _resolve(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = openapi["components"]["schemas"][name]
    return schema


def _body(
    openapi: dict[str, Any], operation: dict[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The top-level fields of an operation's JSON body (None: it takes none) and the body's
    first example, if the schema has one."""
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None, None
    schema = _resolve(openapi, content["application/json"].get("schema", {}))
    examples = schema.get("examples") or []
    return dict(schema.get("properties", {})), examples[0] if examples else None


def _is_array(openapi: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = _resolve(openapi, schema)
    options = [schema, *(_resolve(openapi, s) for s in schema.get("anyOf", []))]
    return any(option.get("type") == "array" for option in options)
