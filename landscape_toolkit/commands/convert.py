"""`cli.py convert`: a polynomial system file rewritten for another solver (PHCpack, Macaulay2, Bertini)."""
from __future__ import annotations

import argparse
import sys

from landscape_toolkit.commands._render import comma_list
from landscape_toolkit.commands._homotopy import check_output


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `convert` subcommand."""
    v = sub.add_parser(
        "convert", help="rewrite a polynomial system file for another solver: PHCpack ↔ Macaulay2 ↔ Bertini",
        description="Read a system in PHCpack, Macaulay2 or Bertini format (detected from the extension .phc, "
                    ".m2, .bertini or the content) and write it in another: PHCpack input (its own first "
                    "line, the variables pinned in order), a Macaulay2 ring and ideal, or a Bertini input "
                    "file (exact rational coefficients where the file had decimals).",
        epilog=CONVERT_EXAMPLES)
    v.add_argument("file", help="system file (PHCpack, Macaulay2 or Bertini)")
    v.add_argument("--to", choices=FORMATS, required=True, help="the format written")
    v.add_argument("--variables", type=comma_list(str), default=None, metavar="X,Y,...",
                   help="the variables' order (default: as the file declares them, else sorted)")
    v.add_argument("--output", "-o", default=None, metavar="FILE", help="file to write (default: stdout)")
    v.set_defaults(handler=run_convert)


FORMATS = ("phc", "m2", "bertini")  # theory.polynomials.files.FORMATS


CONVERT_EXAMPLES = """examples:
  cli.py convert examples/cyclic5.phc --to m2 -o cyclic5.m2
  cli.py convert cyclic5.m2 --to bertini -o input
  cli.py convert input --to phc
"""


def run_convert(args: argparse.Namespace) -> int:
    """Read a system file and write it in another solver's format."""
    from landscape_core.records import atomic_write_text
    from theory.polynomials.files import load_system, system_text

    if args.output:
        check_output(args.output)
    loaded = load_system(args.file, args.variables)
    text = system_text(loaded.system, args.to)
    if args.output:
        atomic_write_text(args.output, text)
        print(f"{args.file} ({loaded.format}, {loaded.system.n_equations} equations in "
              f"{loaded.system.n_vars} variables: {', '.join(loaded.system.names)}) → {args.output} ({args.to})")
    else:
        sys.stdout.write(text)
    return 0
