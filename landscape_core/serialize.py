"""One conversion of results to JSON: dataclasses, numpy values, Fractions, huge ints, inf/nan.

Result dataclasses inherit `Serializable`, whose `to_dict` walks the fields through `to_jsonable`;
a class overrides `to_dict` only when its JSON differs from its fields (derived keys, omitted
arrays), and then still builds on `fields_dict`.
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator
from landscape_core.errors import InvalidSpecError

# Inside `exact_ints()` every integer stays a JSON integer, however large: configurations (seeds)
# must read back exactly, and Python's json reads big integers exactly.
_EXACT_INTS: contextvars.ContextVar[bool] = contextvars.ContextVar("exact_ints", default=False)


@contextlib.contextmanager
def exact_ints() -> Iterator[None]:
    """Within the block, `to_jsonable` keeps every int as an int (for configurations, not results)."""
    token = _EXACT_INTS.set(True)
    try:
        yield
    finally:
        _EXACT_INTS.reset(token)


def to_jsonable(obj: Any) -> Any:
    """Return a JSON-compatible copy of `obj` (dataclasses, numpy, Fractions, big ints, inf/nan).

    Integers of 2^53 or more become strings (most JSON readers would round them), except inside
    `exact_ints()`, which configurations use so that seeds survive a JSON round trip.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_dict"):
            return to_jsonable(obj.to_dict())
        return fields_dict(obj)
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Fraction):
        return str(obj)
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        # JSON integers are exact in Python but not in most readers: keep huge ones as strings,
        # and beyond 4,000 digits (Python's default str limit) only their order of magnitude.
        if abs(obj) < 2**53 or (_EXACT_INTS.get() and obj.bit_length() < 13_000):
            return obj
        if obj.bit_length() < 13_000:
            return str(obj)
        return f"~10^{math.log10(abs(obj)):.6f}"
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, Path):
        return str(obj)
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        np = None
    if np is not None:
        if isinstance(obj, np.ndarray):
            return to_jsonable(obj.tolist())
        if isinstance(obj, np.generic):
            return to_jsonable(obj.item())
    if isinstance(obj, complex):
        return [obj.real, obj.imag]
    return str(obj)


def fields_dict(obj: Any, exclude: tuple[str, ...] = ()) -> dict:
    """Return the JSON form of a dataclass's fields, in declaration order, minus `exclude`."""
    return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.name not in exclude}


class Serializable:
    """Mixin for result dataclasses: `to_dict()` is the JSON form of every field."""

    def to_dict(self) -> dict:
        """Return the JSON-compatible dict of this result's fields."""
        return fields_dict(self)


def check_known_keys(cls: type, data: dict, what: str) -> None:
    """Raise InvalidSpecError naming every key of `data` that is not a field of dataclass `cls`."""
    unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise InvalidSpecError(f"unknown {what} keys: {', '.join(unknown)}")


class Config(Serializable):
    """Mixin for frozen configurations: `from_dict` inverts `to_dict`; unknown keys are an error.

    Nested specs given as dicts (a network, data) are turned back into their classes by the
    configuration's own `__post_init__`. `CONFIG_NAME` names the configuration in error messages.
    """

    CONFIG_NAME = "config"

    def to_dict(self) -> dict:
        """Return the JSON-compatible dict of the fields, every integer exact (seeds of any width)."""
        with exact_ints():
            return fields_dict(self)

    @classmethod
    def from_dict(cls, data: dict):
        """Return the configuration whose `to_dict` is `data`.

        InvalidSpecError names unknown keys, and says what is wrong with a value of the wrong type
        (a damaged or hand-edited config.json) instead of the TypeError of a comparison deep inside.
        """
        if not isinstance(data, dict):
            raise InvalidSpecError(f"a {cls.CONFIG_NAME} is a JSON object of fields, not {type(data).__name__}")
        check_known_keys(cls, data, cls.CONFIG_NAME)
        try:
            return cls(**data)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            if isinstance(exc, InvalidSpecError):
                raise
            raise InvalidSpecError(f"{cls.CONFIG_NAME} has a field of the wrong kind ({exc})") from None


def dumps(obj: Any, indent: int | None = 2) -> str:
    """Return `obj` as JSON text (through `to_jsonable`)."""
    return json.dumps(to_jsonable(obj), indent=indent)
