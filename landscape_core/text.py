"""Numbers in one-line messages: exact when short, an order of magnitude when not."""
from __future__ import annotations

import math


def count_text(n: int) -> str:
    """Return n with thousands separators, or 'about 10^x' when it has over 12 digits (any int size)."""
    if abs(n) < 10**12:
        return f"{n:,}"
    return f"about 10^{abs(n).bit_length() * math.log10(2):.1f}"
