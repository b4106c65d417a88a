"""landscape-toolkit's command line: the top layer, above `landscape_core`, `theory` and `empirics`.

`cli` builds the parser and is the one boundary where a named error becomes one line on stderr;
`commands` holds one module per command; `grid_targets` names the library calls a grid may run;
`atlas_runner` runs the atlas's rows as a resumable grid. Importing this package imports nothing else.
"""
