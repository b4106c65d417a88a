"""Pure mathematics of polynomial-activation networks: specs, polynomial systems, bounds, homotopy.

Nothing in this package imports torch; numpy, sympy, scipy and phcpy only.
"""
