"""Networks and their polynomial systems: the first stage, from a spec to equations.

* `spec`: `NetworkSpec` (frozen) and its straight-line program over any commutative ring;
* `activations`: exact user polynomials and polynomial approximations of the ReLU (Theory II §3.1);
* `rings`: the small rings the program runs over (polynomials mod p, truncated series, degrees);
* `data`: exact rational data sets (seeded, planted, or read from a file);
* `equations`: the zero-error (Theory II eq. (5)) and critical-point systems of a network on N points.
"""
