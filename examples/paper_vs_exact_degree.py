"""Theory II §3.2 says each zero-error equation has degree ℓ^d; print the certified degree beside it.

Run: .venv/bin/python examples/paper_vs_exact_degree.py
For fully connected width-2 networks on 2 inputs, with P on the output (eq. (5)) and without it.
"""
from theory.network.activations import parse
from theory.bounds.bezout import bezout_report
from theory.network.spec import NetworkSpec


def main() -> None:
    print(f"{'d':>2} {'ℓ':>2} {'output P':>8} {'paper ℓ^d':>10} {'exact D':>8} {'certified':>9} {'layer-1 degree':>14}")
    for d in (1, 2, 3, 4):
        for ell in (1, 2, 3, 4):
            act = parse("linear") if ell == 1 else parse(f"z + z^{ell}")
            for out in (True, False):
                spec = NetworkSpec.fully_connected(2, 2, d, act, output_activation=out)
                r = bezout_report(spec, n_points=2, seed=0)
                print(f"{d:>2} {ell:>2} {str(out):>8} {r.paper_degree:>10} {r.degree:>8} "
                      f"{str(r.degrees_exact):>9} {r.group_degrees[0]:>14}")


if __name__ == "__main__":
    main()
