"""Pure mathematics of polynomial-activation networks, one subpackage per stage of the pipeline.

Nothing in this package imports torch; numpy, sympy, scipy, phcpy (and optionally Bertini,
Macaulay2, python-flint) only. A reader follows the stages in this order:

* `network`: a network spec, its activations, the rings it runs over, exact data, and its
  zero-error and critical-point equations;
* `bounds`: Bezout-type bounds of Theory II (Poggio & Liao, arXiv:1703.09833), exact degrees,
  ranks of Jacobians (expected dimensions);
* `polynomials`: a polynomial system as an object (PHCpack text beside a numpy evaluator) and as
  files for PHCpack, Macaulay2 and Bertini; classical systems with known counts;
* `homotopy`: start systems, path tracking, the PHCpack door, endpoints and their fate, `solve`;
* `counting`: dimension and degree by witness sets, monodromy, coordinate strata, generic
  parameters, exact oracles (Gröbner bases, Macaulay2), Krawczyk certificates, the atlas of counts;
* `sublevel`: connected sublevel sets (Freeman & Bruna's paths, a ReLU contrast, spurious valleys);
* `figures`: drawing only, from computed results.
"""
