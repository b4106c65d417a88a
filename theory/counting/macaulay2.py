"""Macaulay2 as an exact oracle: dimension and degree of the ideal of a network system.

`dim I` is the Krull dimension of Q[w]/I, the dimension of V(I) ⊂ C^K. `degree I` is computed by
Macaulay2 from the Hilbert polynomial of a Gröbner basis in a degree-compatible order (GRevLex,
its default): it is the degree of the projective closure of V(I) — top-dimensional components
only, each counted with its multiplicity (Eisenbud, *Commutative Algebra*, §12.1; Macaulay2
documentation of `degree(Ideal)`). A generic affine slice of codimension dim V meets the
projective closure only in affine points (a generic hyperplane at infinity is avoided), so for
a reduced ideal `degree I` equals the number of witness points of `theory.counting.dimension` — the two
compare like with like. For a zero-dimensional ideal it is dim_Q Q[w]/I, the number of complex
solutions with multiplicity (Cox–Little–O'Shea, ch. 5 §3, Thm 6).

The system is exported exactly (`theory.polynomials.export.to_macaulay2`) and run by `M2 --script` in a child
process with a timeout; the coefficient field is QQ by default or ZZ/p for a prime p (the same
leading ideal as over QQ for all but finitely many p, Arnold 2003).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

from landscape_core.serialize import Serializable
from landscape_core.errors import SolverError
from theory.polynomials.export import to_macaulay2

INSTALL_HINT = "install Macaulay2 (Debian/Ubuntu: apt-get install macaulay2; or run setup.sh)"
_MARK = re.compile(r"^(DIM|DEGREE)=(-?\d+|-infinity|infinity)\s*$", re.M)


@dataclass(frozen=True)
class IdealInvariants(Serializable):
    """Dimension and degree of an ideal computed by Macaulay2.

    Fields:
        dim: Krull dimension of Q[w]/I (−1 for the unit ideal: no solution).
        degree: `degree I`: the degree of the projective closure's top-dimensional part (with
            multiplicity); for a zero-dimensional ideal, the solution count with multiplicity.
        field: 'QQ' or 'ZZ/p'.
        seconds: wall time of the M2 run.
    """

    dim: int
    degree: int
    field: str
    seconds: float


def m2_binary() -> str:
    """Return the path of M2; SolverError with the install hint when it is missing."""
    path = shutil.which("M2")
    if path is None:
        raise SolverError(f"Macaulay2 (M2) is not on PATH: {INSTALL_HINT}")
    return path


def available() -> bool:
    """Return whether M2 is on PATH."""
    return shutil.which("M2") is not None


def run_script(script: str, timeout: float = 300.0) -> str:
    """Return the stdout of `M2 --script` on the given text; SolverError on failure or timeout."""
    binary = m2_binary()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ideal.m2")
        with open(path, "w") as fh:
            fh.write(script)
        try:
            done = subprocess.run([binary, "--script", path], capture_output=True, text=True, timeout=timeout,
                                  cwd=tmp)
        except subprocess.TimeoutExpired:
            raise SolverError(f"Macaulay2 did not finish within {timeout:g} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise SolverError(f"Macaulay2 failed (exit {done.returncode}): {last}")
    return done.stdout


def parse_invariants(stdout: str) -> tuple[int, int]:
    """Return (dim, degree) from the DIM=/DEGREE= lines the script prints; SolverError if absent."""
    found = dict((k, v) for k, v in _MARK.findall(stdout))
    if set(found) != {"DIM", "DEGREE"}:
        raise SolverError(f"could not read dim and degree from Macaulay2's output: {stdout[-200:]!r}")
    dim = -1 if found["DIM"] in ("-infinity", "-1") else int(found["DIM"])
    return dim, int(found["DEGREE"]) if found["DEGREE"].lstrip("-").isdigit() else 0


def ideal_invariants(system, prime: int | None = None, timeout: float = 300.0) -> IdealInvariants:
    """Return `dim I` and `degree I` of a ZeroErrorSystem or CriticalSystem's ideal, by Macaulay2.

    `prime`: compute over ZZ/p instead of QQ.
    """
    text = to_macaulay2(system, expanded=True)
    field = "QQ" if prime is None else f"ZZ/{int(prime)}"
    if prime is not None:
        text = text.replace("R = QQ[", f"R = ZZ/{int(prime)}[", 1)
    script = text + 'print("DIM=" | toString(dim I));\nprint("DEGREE=" | toString(degree I));\n'
    t0 = time.perf_counter()
    dim, degree = parse_invariants(run_script(script, timeout))
    return IdealInvariants(dim, degree, field, time.perf_counter() - t0)


_MULTI = re.compile(r"^(DIM|DEGREE)(\d+)=(-?\d+|-infinity|infinity)\s*$", re.M)


class PendingInvariants:
    """`dim I` and `degree I` of several ideals, computed by one `M2 --script` run in the background.

    One process pays Macaulay2's start-up (about 1.5 s) once, and the caller keeps working (path
    tracking) while it runs; `result()` waits for it. M2 prints each ideal's invariants as it
    finishes them, into a file read without waiting, so `n_done()` is the run's progress. Start
    with `start_invariants`.
    """

    def __init__(self, systems, timeout: float = 300.0, prime: int | None = None) -> None:
        self.field = "QQ" if prime is None else f"ZZ/{int(prime)}"
        parts = []
        for k, system in enumerate(systems):
            text = to_macaulay2(system, expanded=True)
            if prime is not None:
                text = text.replace("R = QQ[", f"R = ZZ/{int(prime)}[", 1)
            parts.append(text + f'print("DIM{k}=" | toString(dim I));\nprint("DEGREE{k}=" | toString(degree I));\n')
        self.n = len(parts)
        self.timeout = timeout
        self._tmp = tempfile.TemporaryDirectory()
        path = os.path.join(self._tmp.name, "ideals.m2")
        with open(path, "w") as fh:
            fh.write("".join(parts))
        self._out_path = os.path.join(self._tmp.name, "stdout.txt")
        self._t0 = time.perf_counter()
        with open(self._out_path, "w") as out:
            self._proc = subprocess.Popen([m2_binary(), "--script", path], stdout=out, stderr=subprocess.PIPE,
                                          text=True, cwd=self._tmp.name)
        self._final: str | None = None

    def elapsed(self) -> float:
        """Return the seconds since the run started."""
        return time.perf_counter() - self._t0

    def _stdout(self) -> str:
        if self._final is not None:
            return self._final
        try:
            with open(self._out_path) as fh:
                return fh.read()
        except FileNotFoundError:
            return ""

    def n_done(self) -> int:
        """Return how many ideals M2 has finished so far (without waiting)."""
        return len({int(k) for key, k, _ in _MULTI.findall(self._stdout()) if key == "DEGREE"})

    def result(self) -> list[IdealInvariants]:
        """Return the invariants of each system, in order; SolverError on failure or timeout."""
        try:
            left = max(0.1, self.timeout - self.elapsed())
            _, err = self._proc.communicate(timeout=left)
        except subprocess.TimeoutExpired:
            done = self.n_done()
            self.cancel()
            raise SolverError(f"Macaulay2 did not finish within {self.timeout:g} s "
                              f"({done} of {self.n} ideals done)") from None
        out = self._stdout()
        self._final = out
        self._tmp.cleanup()
        if self._proc.returncode != 0:
            last = (err.strip().splitlines() or ["no message"])[-1]
            raise SolverError(f"Macaulay2 failed (exit {self._proc.returncode}): {last}")
        seconds = self.elapsed()
        found: dict[tuple[str, int], str] = {(key, int(k)): v for key, k, v in _MULTI.findall(out)}
        invs = []
        for k in range(self.n):
            if ("DIM", k) not in found or ("DEGREE", k) not in found:
                raise SolverError(f"could not read dim and degree of ideal {k} from Macaulay2's output: {out[-200:]!r}")
            dim, deg = found[("DIM", k)], found[("DEGREE", k)]
            invs.append(IdealInvariants(-1 if dim in ("-infinity", "-1") else int(dim),
                                        int(deg) if deg.lstrip("-").isdigit() else 0, self.field, seconds))
        return invs

    def finished(self) -> bool:
        """Return whether the M2 process has ended (without waiting)."""
        return self._proc.poll() is not None

    def done(self) -> bool:
        """Return whether the M2 process has finished, or its time is up (without waiting)."""
        return self._proc.poll() is not None or self.elapsed() >= self.timeout

    def cancel(self) -> None:
        """Stop the M2 process (when its answer is no longer needed)."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.communicate()
        if self._final is None:
            self._final = self._stdout()
        self._tmp.cleanup()


def start_invariants(systems, timeout: float = 300.0, prime: int | None = None) -> PendingInvariants:
    """Return a PendingInvariants: one background M2 run computing `dim I`, `degree I` of each system."""
    return PendingInvariants(list(systems), timeout, prime)
