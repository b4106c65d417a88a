"""landscape-toolkit: the bottom layer (`common`), the grid targets and the command line (`commands`, `cli`).

The mathematics lives in the top-level packages `theory` (no torch) and `empirics` (PyTorch); this
package holds what both share underneath them and the command line above them. Importing it
imports nothing else.
"""
