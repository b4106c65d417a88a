"""Rendering helpers shared by the commands: tables, JSON, argument types, big numbers."""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from landscape_core.progress import Progress

from landscape_core.serialize import to_jsonable


def _number(cast: type, lowest: float, strict: bool, noun: str):
    """Return an argparse type that parses `cast` and requires value > lowest (strict) or >= lowest."""

    def parse(text: str):
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        ok = (value > lowest if strict else value >= lowest) and math.isfinite(value)
        if not ok:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text}")
        return value

    return parse


positive_int = _number(int, 0, True, "a positive integer")
nonnegative_int = _number(int, 0, False, "a non-negative integer")
positive_float = _number(float, 0.0, True, "a positive number")
nonnegative_float = _number(float, 0.0, False, "a non-negative number")


def count_or_all(text: str) -> int | None:
    """Parse a number of examples: a positive integer, or 'all' (None: every example)."""
    if text.strip().lower() == "all":
        return None
    return positive_int(text)


def comma_list(item) -> "Callable[[str], tuple]":
    """Return an argparse type for a comma-separated list whose items `item` parses, e.g. '3,4,4,2'.

    `item` is one of the number types above (or any str → value function raising
    ArgumentTypeError/ValueError); spaces are ignored and at least one item is required.
    """

    def parse(text: str) -> tuple:
        parts = [v for v in text.replace(" ", "").split(",") if v]
        if not parts:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
        try:
            return tuple(item(v) for v in parts)
        except (argparse.ArgumentTypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(f"in the list {text!r}: {exc}") from None

    return parse


def add_progress_flag(parser: argparse.ArgumentParser) -> None:
    """Add --no-progress (no progress bars on stderr), the one progress flag of every command."""
    parser.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")


@contextlib.contextmanager
def progress_bar(args: argparse.Namespace, desc: str) -> "Iterator[Progress | None]":
    """Yield a `common.progress.Progress` callback driving one tqdm bar on stderr (None with --no-progress).

    The bar opens at the first report, so a command refused before any work prints its one error
    line only. A note (`progress(done, total, note)`) is shown beside the count. When the count
    starts again (a new stage of an experiment, the next weights of a probe), or counting starts
    after a phase without a count, the bar restarts its clock, so its rate and time left are those
    of the work in progress and the note says which work that is.
    """
    if getattr(args, "no_progress", False):
        yield None
        return
    from tqdm import tqdm

    bars: list = []

    def update(done: int, total: int | None, note: str | None = None) -> None:
        if not bars:
            bars.append(tqdm(desc=desc, file=sys.stderr, leave=False, mininterval=0.5, delay=1.0, dynamic_ncols=True))
        bar = bars[0]
        if done < bar.n or (bar.total is None and total is not None and bar.n == 0):
            bar.reset(total=total)  # a new count, or counting starts after a phase without one
        if note is not None:
            bar.set_postfix_str(note, refresh=False)
        if total is not None and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        if bars:
            bars[0].close()


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """Add --json (print the result as JSON instead of a table)."""
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def print_json(result: Any) -> None:
    """Print `result` (a dataclass or dict) as indented JSON on stdout."""
    json.dump(to_jsonable(result), sys.stdout, indent=2)
    sys.stdout.write("\n")


def big(n: int) -> str:
    """Return an exact integer with its order of magnitude, e.g. '2,478,758,911,082,496 (10^15.39)'.

    Integers of more than 100 digits show their first and last digits and the digit count.
    """
    if n == 0:
        return "0"
    if abs(n) < 10**6:
        return f"{n:,}"
    mag = math.log10(abs(n))  # exact enough for any int size
    n_digits = int(mag) + 1
    if n_digits <= 100:
        return f"{n:,} (10^{mag:.2f})"
    head = abs(n) // 10 ** (n_digits - 6) if n_digits < 4000 else None
    lead = f"{head}..." if head is not None else ""
    return f"{'-' if n < 0 else ''}{lead}({n_digits:,} digits) (10^{mag:.2f})"


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str] | None = None) -> str:
    """Return rows as an aligned plain-text table."""
    cells = [[str(c) for c in r] for r in rows]
    if headers:
        cells = [list(map(str, headers))] + cells
    if not cells:
        return ""
    widths = [max(len(r[i]) for r in cells if i < len(r)) for i in range(max(len(r) for r in cells))]
    lines = []
    for k, r in enumerate(cells):
        lines.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
        if headers and k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def key_values(pairs: Iterable[tuple[str, Any]]) -> str:
    """Return 'key : value' lines aligned on the colon."""
    pairs = list(pairs)
    width = max((len(k) for k, _ in pairs), default=0)
    return "\n".join(f"{k.ljust(width)} : {v}" for k, v in pairs)


def add_run_flags(parser: argparse.ArgumentParser, default: str | None = None, optional: bool = False,
                  required: bool = False) -> None:
    """Add the output flags every command shares: --out ROOT (default runs) and --run NAME.

    The run folder is ROOT/NAME (`landscape_core.runs`). With `optional`, the result is
    saved only when --run is given; otherwise `default` describes the name used without --run.
    """
    g = parser.add_argument_group("output")
    g.add_argument("--out", metavar="ROOT", default="runs", help="root folder of run folders (default runs)")
    if optional:
        g.add_argument("--run", metavar="NAME", default=None,
                       help="also save the result in ROOT/NAME: result.json, config.json (the options) and "
                            "manifest.json (seed, versions, git commit, code diff)")
    elif required:
        g.add_argument("--run", metavar="NAME", required=True, help="run folder name under ROOT")
    else:
        g.add_argument("--run", metavar="NAME", default=None,
                       help=f"run folder name under ROOT (default {default or 'derived from the options'})")


def add_from_flag(parser: argparse.ArgumentParser, what: str, repeat: bool = False, required: bool = False) -> None:
    """Add --from PATH, the input flag every command shares (a run folder or a file), stored as `args.source`."""
    parser.add_argument("--from", dest="source", metavar="PATH", required=required,
                        action="append" if repeat else "store", help=what)


# Flags that say how to run or show a command, not what it computes: not part of a saved configuration.
SAVE_SKIP = ("handler", "json", "out", "run", "no_progress", "command", "max_memory", "_given")


def add_size_flag(parser: argparse.ArgumentParser) -> None:
    """Add --max-memory GB, the limit every size check of the command compares its estimate with."""
    parser.add_argument("--max-memory", type=positive_float, default=None, metavar="GB",
                        help="refuse, before any work, a request whose estimated memory exceeds GB gigabytes "
                             "(default: 80%% of this machine's memory)")


def check_size(args: argparse.Namespace, needs, out: str | Path | None = None) -> None:
    """Refuse (RequestTooLarge, one line) a request whose estimated needs exceed --max-memory or the free disk."""
    from landscape_core.sizes import check_needs

    check_needs(needs, getattr(args, "max_memory", None), out)


def options_config(args: argparse.Namespace) -> dict:
    """Return the options of a command as the configuration its run folder records."""
    return {k: v for k, v in vars(args).items() if k not in SAVE_SKIP}


def check_out(args: argparse.Namespace) -> None:
    """Refuse --run before any work when ROOT/NAME holds a result of other options (CheckpointError) or
    another process is using it (RunLockedError); otherwise hold it until the command ends (`claim_run`)."""
    if not getattr(args, "run", None):
        return
    from landscape_core.runs import check_config, check_run_name, claim_run

    check_config(Path(args.out) / check_run_name(args.run), options_config(args))
    claim_run(args.out, args.run)


def save_result(args: argparse.Namespace, result: Any) -> str | None:
    """Save `result` as the run folder ROOT/NAME when --run is given and return its path, else None.

    A folder that already holds a result of other options is refused (CheckpointError) instead of
    being overwritten; the same options rerun in place.
    """
    if not getattr(args, "run", None):
        return None
    from landscape_core.runs import save_run

    run = save_run(args.out, args.run, options_config(args), result, getattr(args, "seed", None),
                   extra={"command": getattr(args, "command", None)})
    return str(run.path)


DEVICE_FORMS = "auto, cpu, cuda, cuda:N or mps"


def device_name(text: str) -> str:
    """Parse --device: one of auto, cpu, cuda, cuda:N, mps (availability is checked by `check_device`)."""
    import re

    name = text.strip().lower()
    if name in ("auto", "cpu", "cuda", "mps") or re.fullmatch(r"cuda:\d+", name):
        return name
    raise argparse.ArgumentTypeError(f"expected a torch device ({DEVICE_FORMS}), got {text!r}")


def add_device_flag(parser, default: str = "auto", what: str = "the computation") -> None:
    """Add --device, the one device flag (checked at parse time for its form, by `check_device` before work)."""
    parser.add_argument("--device", type=device_name, default=default,
                        help=f"torch device for {what}: auto (CUDA when present, else the CPU), cpu, cuda, cuda:N, mps")


def check_device(args: argparse.Namespace) -> None:
    """Refuse (DeviceUnavailable) a --device this machine lacks, before any work or run folder."""
    from empirics.device import pick_device

    pick_device(args.device)
