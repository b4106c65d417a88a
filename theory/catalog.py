"""Classical polynomial systems with known root counts, for tests and benchmarks.

* cyclic n-roots (Björck–Fröberg 1991): cyclic-5 has 70 isolated solutions (10 real), the mixed
  volume, against a Bezout number of 120;
* Katsura-n (Katsura 1990): 2^n isolated solutions, all regular, equal to its Bezout number.
"""
from __future__ import annotations


def cyclic(n: int) -> list[str]:
    """Return the cyclic n-roots system in x0..x{n−1}: Σ_i ∏_{j<k} x_{i+j} = 0 for k < n, ∏ x_i = 1."""
    x = [f"x{i}" for i in range(n)]
    polys = []
    for k in range(1, n):
        polys.append(" + ".join("*".join(x[(i + j) % n] for j in range(k)) for i in range(n)) + ";")
    polys.append("*".join(x) + " - 1;")
    return polys


def katsura(n: int) -> list[str]:
    """Return Katsura-n in u0..un with u_{−l} = u_l and u_l = 0 for |l| > n: 2^n solutions, all regular."""
    def u(l: int) -> str | None:
        return f"u{abs(l)}" if abs(l) <= n else None
    polys = [" + ".join(u(l) for l in range(-n, n + 1)) + " - 1;"]
    for m in range(n):
        terms = [f"{u(l)}*{u(m - l)}" for l in range(-n, n + 1) if u(l) and u(m - l)]
        polys.append(" + ".join(terms) + f" - u{m};")
    return polys
