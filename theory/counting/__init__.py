"""Counting and proofs: how many solutions, of what dimension, and why the count is right.

* `dimension`: dimension and degree of zero-error sets by witness sets and the irreducible decomposition;
* `monodromy`: all solutions of a parametrised family from one known solution (`LoopBudget`, `monodromy_solve`);
* `families`: parametrised families built from networks, and the zero-error monodromy drivers;
* `strata`: coordinate strata (dead units, W = 0) that are solution sets for every parameter;
* `critical_points`: critical points of the square loss, Hessian signature and nullity (Theory II §3.3);
* `stratified_count`: critical points of a penalised loss per stratum, by monodromy, with their proof;
* `genericity`: generic parameters by construction (large random rationals) and a record of the draw;
* `groebner`, `macaulay2`: exact oracles (reduced Gröbner bases; Macaulay2's dim and degree);
* `certify`, `certify_arb`: Krawczyk certificates in double precision and in Arb ball arithmetic;
* `symmetry`: the finite symmetry groups of weight spaces acting on solution sets;
* `atlas`, `atlas_patterns`: the atlas of critical-point counts, and the closed forms its families follow.
"""
