"""CLI commands: one module per command family, each with `register(subparsers)`.

A module's `register` adds subparsers and sets `handler=<function(args) -> int>` on each. Heavy
imports (torch, phcpy, sympy) happen inside handlers, so that `cli.py bezout` starts fast.
Handlers parse, build a config, call one library function and render its result; no mathematics
here. Shared rendering helpers live in `commands/_render.py`.
"""
