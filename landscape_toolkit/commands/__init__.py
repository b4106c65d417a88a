"""CLI commands: one module per command (`solve.py` holds `cli.py solve`), each with `register(subparsers)`.

A module's `register` adds its subparser and sets `handler=<function(args) -> int>`. Heavy imports
(torch, phcpy, sympy) happen inside handlers, so that `cli.py bezout` starts fast. Handlers parse,
build a config, call one library function and render its result; no mathematics here. Modules whose
names start with `_` are not commands: `_parser` (the parser class and flag checks), `_render`
(shared flags and rendering), `_network` (network flags), `_homotopy` (flags and helpers of
solve, convert, dimension and critical), `_sublevel` (those of paths, valleys and dss).
"""
