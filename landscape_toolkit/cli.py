"""The command line: `python cli.py <command> [options]` or `landscape-toolkit <command> [options]`.

Each command lives in `landscape_toolkit/commands/<module>.py` with `register(subparsers)`; this file only builds
the parser (`commands._parser.OneLineParser`), dispatches, and is the one boundary where a ToolkitError, a failed file operation
(OSError), undecodable input, malformed JSON or a numerical overflow becomes one line on stderr
with exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
import warnings

# Debian's matplotlib (pulled in beside phcpy) shadows the venv's 3-D toolkit; no figure here is 3-D.
warnings.filterwarnings("ignore", message="Unable to import Axes3D")

from landscape_toolkit import commands  # noqa: E402
from landscape_toolkit.commands._parser import OneLineParser  # noqa: E402
from landscape_core.errors import ToolkitError  # noqa: E402
from landscape_core.runs import release_claims  # noqa: E402


def _prog() -> str:
    """Return the name the user typed: the console script's, else `cli.py` (the source checkout's shim)."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return name if name == "landscape-toolkit" else "cli.py"


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every command module's subcommands registered."""
    parser = OneLineParser(
        prog=_prog(),
        description="Verify the loss-landscape theory of polynomial-activation networks "
                    "(Bezout bounds, homotopy counts, connecting paths) and measure real training runs.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    sub.required = True
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"landscape_toolkit.commands.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse `argv`, run the chosen command, and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except ToolkitError as exc:
        return _fail(args.command, str(exc))
    except BrokenPipeError:  # before OSError, of which it is a subclass
        # the reader (e.g. `| head`) closed the pipe: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # the boundary for files and devices: name the file, never a traceback
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return _fail(args.command, f"{where}{exc.strerror or exc}")
    except UnicodeDecodeError as exc:
        return _fail(args.command, f"input is not UTF-8 text ({exc.reason} at byte {exc.start})")
    except json.JSONDecodeError as exc:
        return _fail(args.command, f"malformed JSON ({exc.msg}, line {exc.lineno})")
    except (OverflowError, FloatingPointError) as exc:
        return _fail(args.command, f"numerical overflow: {exc}; use smaller values")
    except MemoryError:
        return _fail(args.command, "out of memory: use a smaller instance")
    except KeyboardInterrupt:
        print(f"{_prog()} {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        release_claims()  # the run folders a command held while it computed (common.runs.claim_run)


def _fail(command: str, message: str) -> int:
    """Print `message` as the command's one-line error on stderr and return exit code 2."""
    line = " ".join(message.split())  # one line, whatever the message held
    print(f"{_prog()} {command}: error: {line}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
