"""Classical polynomial systems with known root counts, for tests and benchmarks.

* cyclic n-roots (Björck–Fröberg 1991): cyclic-5 has 70 isolated solutions (10 real), the mixed
  volume, against a Bezout number of 120;
* Katsura-n (Katsura 1990): 2^n isolated solutions, all regular, equal to its Bezout number;
* noon-n (Noonburg 1989): a neural network model, 3^n Bezout paths;
* the critical system of a deep linear network (Mehta, Chen, Tang, Hauenstein 2018).
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


def noon(n: int) -> list[str]:
    """Return Noonburg's neural network system noon-n: x_i (Σ_{j≠i} x_j²) − 1.1 x_i + 1 = 0, i < n.

    Noonburg 1989; Bezout number 3^n. noon-4 has 73 isolated solutions (found here by the
    default route and each proved by a Krawczyk certificate, as by PHCpack's blackbox).
    """
    x = [f"x{i}" for i in range(n)]
    polys = []
    for i in range(n):
        squares = " + ".join(f"{x[j]}^2" for j in range(n) if j != i)
        polys.append(f"{x[i]}*({squares}) - 1.1*{x[i]} + 1;")
    return polys


def mehta_critical(layers: int = 2, width: int = 2, seed: int = 0):
    """Return the critical system of a deep linear network with one data point and a generic L2 penalty (a System).

    Mehta, Chen, Tang, Hauenstein 2018 (arXiv:1810.07716): widths `width`, no bias, loss
    ‖W_H⋯W_1 x − y‖² + Σ λ_ij w_ij² with generic λ; `layers` counts weight matrices: width 2 with
    layers = 2 (fc 2-2-2, their (2,2,2), 8 weights) has 33 complex critical points, layers = 3
    (fc 2-2-2-2, 12 weights) 641, layers = 1 has 1 (with the data and λ of `critical --activation
    linear --layers 2 --input-dim 2 --width 2 --output-dim 2 --no-bias --no-output-activation
    --points 1 --penalty generic`).
    """
    from theory.network.activations import parse
    from theory.counting.critical_points import critical_system, generic_penalty
    from theory.network.data import random_data
    from theory.network.spec import NetworkSpec
    from theory.network.equations import CriticalSystem

    spec = NetworkSpec.fully_connected(width, width, layers, parse("z"), output_dim=width, bias=False,
                                       output_activation=False)
    crit = CriticalSystem(spec, random_data(spec, 1, seed), generic_penalty(spec.n_params, seed))
    return critical_system(crit)
