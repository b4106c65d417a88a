"""Rendering helpers shared by the commands: tables, JSON, argument types, big numbers."""
from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any, Iterable, Sequence

from common.serialize import to_jsonable


def _number(cast: type, lowest: float, strict: bool, noun: str):
    """Return an argparse type that parses `cast` and requires value > lowest (strict) or >= lowest."""

    def parse(text: str):
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        ok = (value > lowest if strict else value >= lowest) and math.isfinite(value)
        if not ok:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text}")
        return value

    return parse


positive_int = _number(int, 0, True, "a positive integer")
nonnegative_int = _number(int, 0, False, "a non-negative integer")
positive_float = _number(float, 0.0, True, "a positive number")
nonnegative_float = _number(float, 0.0, False, "a non-negative number")


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """Add --json (print the result as JSON instead of a table)."""
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def print_json(result: Any) -> None:
    """Print `result` (a dataclass or dict) as indented JSON on stdout."""
    json.dump(to_jsonable(result), sys.stdout, indent=2)
    sys.stdout.write("\n")


def big(n: int) -> str:
    """Return an exact integer with its order of magnitude, e.g. '2,478,758,911,082,496 (10^15.39)'.

    Integers of more than 100 digits show their first and last digits and the digit count.
    """
    if n == 0:
        return "0"
    if abs(n) < 10**6:
        return f"{n:,}"
    mag = math.log10(abs(n))  # exact enough for any int size
    n_digits = int(mag) + 1
    if n_digits <= 100:
        return f"{n:,} (10^{mag:.2f})"
    head = abs(n) // 10 ** (n_digits - 6) if n_digits < 4000 else None
    lead = f"{head}..." if head is not None else ""
    return f"{'-' if n < 0 else ''}{lead}({n_digits:,} digits) (10^{mag:.2f})"


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str] | None = None) -> str:
    """Return rows as an aligned plain-text table."""
    cells = [[str(c) for c in r] for r in rows]
    if headers:
        cells = [list(map(str, headers))] + cells
    if not cells:
        return ""
    widths = [max(len(r[i]) for r in cells if i < len(r)) for i in range(max(len(r) for r in cells))]
    lines = []
    for k, r in enumerate(cells):
        lines.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
        if headers and k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def key_values(pairs: Iterable[tuple[str, Any]]) -> str:
    """Return 'key : value' lines aligned on the colon."""
    pairs = list(pairs)
    width = max((len(k) for k, _ in pairs), default=0)
    return "\n".join(f"{k.ljust(width)} : {v}" for k, v in pairs)
