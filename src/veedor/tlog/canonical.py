"""Canonical JSON: the one byte string that a log entry's value is written as, so its hash names it.

The rules are RFC 8785's (JSON Canonicalization Scheme) restricted to what the log holds:

* objects with string keys, sorted by their UTF-16 code units (RFC 8785 §3.2.3), each key once;
* arrays; strings; integers only, within ±(2**53 - 1) so every JSON reader gets them exactly
  (no floats, NaN or infinities: write a measure as an integer of small units, or as a string);
  ``true``, ``false`` and ``null``;
* no whitespace between tokens; strings escape only ``"``, ``\\`` and the control characters
  (``\\b \\t \\n \\f \\r`` by name, the others as ``\\u00xx``); everything else is literal UTF-8;
* nested at most ``MAX_DEPTH`` deep.

``parse`` accepts only bytes that ``canonical`` would have written: any other spelling of the same
value (spaces, key order, escapes, ``1.0``) is refused, so one value has exactly one entry hash.
"""

from __future__ import annotations

import json

MAX_INT = 2**53 - 1
MAX_DEPTH = 64


def _key_order(key: str) -> bytes:
    # UTF-16 big-endian bytes compare as the code units do: RFC 8785's order, even beyond U+FFFF.
    return key.encode("utf-16-be")


def _encode(value: object, out: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"canonical JSON: nested deeper than {MAX_DEPTH}")
    if value is None or isinstance(value, bool):
        out.append({None: "null", True: "true", False: "false"}[value])
    elif isinstance(value, int):
        if not -MAX_INT <= value <= MAX_INT:
            raise ValueError(f"canonical JSON: integer {value} is beyond ±(2**53 - 1); write it as a string")
        out.append(str(int(value)))  # int(): an IntEnum would print its name
    elif isinstance(value, float):
        raise ValueError(f"canonical JSON: floats are not allowed ({value!r}); use an integer or a string")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))  # escapes exactly RFC 8785's set
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            out.append("," if i else "")
            _encode(item, out, depth + 1)
        out.append("]")
    elif isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            bad = next(key for key in value if not isinstance(key, str))
            raise ValueError(f"canonical JSON: object keys must be strings, not {type(bad).__name__}")
        out.append("{")
        for i, key in enumerate(sorted(value, key=_key_order)):
            out.append(("," if i else "") + json.dumps(key, ensure_ascii=False) + ":")
            _encode(value[key], out, depth + 1)
        out.append("}")
    else:
        raise ValueError(f"canonical JSON: cannot encode a {type(value).__name__}")


def canonical(value: object) -> bytes:
    """The canonical JSON bytes of ``value`` (dict, list, tuple, str, int, bool, None)."""
    out: list[str] = []
    try:
        _encode(value, out, 0)
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            "canonical JSON: a string holds a lone surrogate, which is not Unicode text"
        ) from None


def _refuse_float(text: str) -> object:
    raise ValueError(f"canonical JSON: floats are not allowed ({text})")


def _refuse_constant(text: str) -> object:
    raise ValueError(f"canonical JSON: {text} is not allowed")


def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, item in pairs:
        if key in out:
            raise ValueError(f"canonical JSON: key {key!r} appears twice")
        out[key] = item
    return out


def parse(data: bytes) -> object:
    """The value of canonical JSON bytes; ValueError for anything ``canonical`` would not write."""
    if not isinstance(data, bytes):
        raise ValueError(f"canonical JSON: expected bytes, not {type(data).__name__}")
    try:
        text = data.decode("utf-8")
        value = json.loads(
            text, parse_float=_refuse_float, parse_constant=_refuse_constant, object_pairs_hook=_object
        )
    except UnicodeDecodeError as error:
        raise ValueError(f"canonical JSON: not UTF-8 ({error.reason} at byte {error.start})") from None
    except RecursionError:
        raise ValueError(f"canonical JSON: nested deeper than {MAX_DEPTH}") from None
    if canonical(value) != data:
        raise ValueError(
            "canonical JSON: valid JSON but not in canonical form (spacing, key order or escapes)"
        )
    return value
