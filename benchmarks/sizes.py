"""Benchmark: the size checks' memory estimates beside the peak resident memory actually measured.

Run: .venv/bin/python benchmarks/sizes.py [--quick]
Each case runs a command (or one library call) in a fresh process at growing sizes, reads its
peak resident set size (GNU time's %M), subtracts the same command's peak at
its smallest size (the interpreter and its imports), and prints that growth beside the estimate
the command checks before it starts (`landscape_toolkit.common.sizes`). A ratio measured/estimate
at or below 1 means the estimate is an upper bound of what the request added; the constants in
theory.degrees, theory.bezout, empirics.compare and empirics.train come from these runs.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss(argv: list[str]) -> tuple[int, float, int]:
    """Return (peak resident bytes, seconds, exit code) of a child process.

    Measured by GNU time (`/usr/bin/time -f %M`), a small process of its own: Linux starts a
    child's ru_maxrss at its parent's, and this script's parent has torch imported.
    """
    t0 = time.perf_counter()
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as report:
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, *argv], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
        kilobytes = int(report.read().split()[-1])
    return kilobytes * 1024, time.perf_counter() - t0, proc.returncode


def cli(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "cli.py"), *args]


def call(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _spec(width: int, input_dim: int = 1, layers: int = 2):
    from landscape_toolkit.cli import build_parser
    from landscape_toolkit.commands._network import spec_from_args

    args = build_parser().parse_args(["critical", "--width", str(width), "--input-dim", str(input_dim),
                                      "--layers", str(layers)])
    return spec_from_args(args)


def memory(needs) -> int:
    return sum(n.amount for n in needs if n.resource == "memory")


def guard_code(width: int, critical: bool) -> str:
    what = "critical_expansion_bound(spec, 2)" if critical else "zero_error_expansion_bound(spec)"
    return ("from landscape_toolkit.cli import build_parser\n"
            "from landscape_toolkit.commands._network import spec_from_args\n"
            "from theory.degrees import critical_expansion_bound, zero_error_expansion_bound\n"
            f"spec = spec_from_args(build_parser().parse_args(['critical', '--width', '{width}']))\n{what}\n")


def cases(quick: bool) -> list[tuple[str, list[tuple[str, list[str], object]]]]:
    from empirics.compare import CompareConfig, compare_needs
    from empirics.train import ModelSpec, TrainConfig, train_needs
    from theory.bezout import bezout_needs
    from theory.degrees import critical_guard_needs, zero_error_guard_needs

    out = []
    widths = (20, 100, 200) if quick else (20, 150, 300, 450)
    out.append(("critical expansion guard (K × K table)", [
        (f"width {w} (K = {_spec(w).n_params})", call(guard_code(w, True)), memory(critical_guard_needs(_spec(w))))
        for w in widths]))
    widths = (100, 3000, 10000) if quick else (100, 3000, 10000, 20000)
    out.append(("zero-error expansion guard", [
        (f"width {w} (K = {_spec(w).n_params})", call(guard_code(w, False)), memory(zero_error_guard_needs(_spec(w))))
        for w in widths]))
    points = (10, 400, 1000) if quick else (10, 500, 1000, 2000)
    out.append(("compare (jacrev, LM, Hessian)", [
        (f"N = {n}", cli("compare", "--width", "8", "--points", str(n), "--restarts", "1", "--iters", "2",
                         "--directions", "1", "--out", "/tmp/sizes-bench", "--run", f"compare-{n}", "--no-progress"),
         memory(compare_needs(CompareConfig(widths=(8,), n_points=n, restarts=1, max_iters=2, n_directions=1,
                                            network=_compare_net()))))
        for n in points]))
    sizes = ((4, 10), (100, 1000), (200, 2000)) if quick else ((4, 10), (100, 1000), (200, 2000), (300, 2000))
    out.append(("bezout (N × K Jacobian)", [
        (f"width {w}, N = {n}", cli("bezout", "--layers", "2", "--degree", "2", "--width", str(w), "--input-dim",
                                    "8", "--points", str(n), "--json"),
         memory(bezout_needs(_spec(w, input_dim=8), n)))
        for w, n in sizes]))
    widths = (16, 1024, 2048) if quick else (16, 1024, 2048, 4096)
    out.append(("train (MLP on digits)", [
        (f"widths {w},{w}", cli("train", "--dataset", "digits", "--model", "mlp", "--widths", f"{w},{w}",
                                "--epochs", "1", "--no-weights", "--out", "/tmp/sizes-bench", "--run", f"train-{w}",
                                "--no-progress", "--device", "cpu"),
         memory(train_needs(TrainConfig(dataset="digits", model=ModelSpec("mlp", widths=(w, w)), epochs=1,
                                        save_weights=False))))
        for w in widths]))
    return out


def _compare_net():
    from empirics.compare import CompareConfig

    return CompareConfig().network


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer and smaller sizes")
    args = parser.parse_args()
    from landscape_toolkit.common.sizes import size_text

    subprocess.run(["rm", "-rf", "/tmp/sizes-bench"], check=False)
    print(f"{'case':<44} {'estimate':>10} {'measured':>10} {'ratio':>6} {'seconds':>8}  (measured: peak RSS "
          f"above the first size's)")
    for title, rows in cases(args.quick):
        print(title)
        base = None
        for label, argv, estimate in rows:
            rss, seconds, code = peak_rss(argv)
            failed = f"  FAILED: exit {code} ({' '.join(argv[1:])})" if code != 0 else ""
            if base is None:
                base = (rss, estimate)
                print(f"  {label:<42} {size_text(estimate):>10} {'(base)':>10} {'':>6} {seconds:8.1f}{failed}")
                continue
            grown, est = rss - base[0], estimate - base[1]
            if estimate == 0:  # the command skips the part that grows (its work is above the stated limits)
                print(f"  {label:<42} {'skipped':>10} {size_text(max(grown, 0)):>10} {'':>6} {seconds:8.1f}{failed}")
                continue
            ratio = grown / est if est > 0 else float("nan")
            print(f"  {label:<42} {size_text(est):>10} {size_text(max(grown, 0)):>10} {ratio:6.2f} {seconds:8.1f}"
                  f"{failed}")


if __name__ == "__main__":
    main()
