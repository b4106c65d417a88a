"""Cross-cutting helpers shared by `theory`, `empirics` and the commands, with no torch and no mathematics.

`errors` (the ToolkitError base and input/run failures), `serialize` (one JSON conversion),
`seeds` (named random streams), `progress` (the progress-callback contract), `records`
(atomic writes, run folders, manifests).
"""
