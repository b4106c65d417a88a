"""Figures of theory results (matplotlib, Agg backend), drawn from computed results; nothing here computes.

* `relu_approximations`: polynomial approximations of the ReLU and their sup-norm errors;
* `atlas`: the atlas's critical-point counts against the number of weights, proofs marked.
"""
