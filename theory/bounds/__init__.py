"""Bounds and degrees: what the counts can be, before any solving.

* `bezout`: Bezout-type bounds, expected and predicted dimension of the zero-error set (Theory II §3.2);
* `degrees`: exact degrees of network equations and bounds on their number of terms, without expanding;
* `jacobian`: Jacobians ∂f(x_i; w)/∂w and their ranks (certified mod p, estimated in floating point);
* `rank`: the one numerical rank rule, and exact rank modulo a prime.
"""
