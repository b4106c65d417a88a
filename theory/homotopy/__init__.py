"""Homotopy solving: all isolated solutions of a square system, every path accounted for.

The pipeline of `solve.solve`, in order:

* `start_systems`: start systems with all their solutions known (total degree, multihomogeneous, polyhedral);
* `slicing`: the one place that draws random complex data (γ, combinations, slices);
* `tracker`: path tracking on PHCpack's trackers, Newton refinement, classification of each endpoint;
* `path_result`: the fate of one path (`PathOutcome`) and the grouping of endpoints into distinct points;
* `extended_newton`: Newton with residuals in extended precision for ill-conditioned regular zeros;
* `local_dimension`: is a singular endpoint isolated, or on a curve or a surface?
* `solve`: the whole pipeline, with certificates and the count of every path;

and the doors to the engines:

* `phcpack`: every phcpy call of the toolkit, quiet and serialised;
* `phcpack_worker`: PHCpack in child processes, so a crash or a hang becomes one Python exception;
* `phcpack_loader`: phcpy loaded once per process under one lock;
* `bertini`: Bertini 2 as a second engine and a cross-check.
"""
