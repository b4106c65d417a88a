"""Polynomial systems as objects and as files, whatever network or paper they come from.

* `system`: `System`, a square or non-square system as PHCpack text beside a complex numpy evaluator;
* `files`: systems and solutions in the solvers' own formats (PHCpack, Macaulay2, Bertini), read and written;
* `export`: polynomials as text for PHCpack, Macaulay2 and JSON, and back;
* `text_checks`: checks on polynomial text before PHCpack parses it (characters, numbers, size, cost);
* `catalog`: classical systems with known root counts (cyclic-n and others), for tests and benchmarks.
"""
