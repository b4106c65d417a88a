"""The parser every command shares: one-line usage errors, readable defaults, and the flags a user gave.

`OneLineParser` makes a usage error one line with exit code 2, refuses abbreviated flags (a flag is
spelt in full or not at all), formats --help with `HelpFormatter` and records which flags were
given on the command line (`given`), so that a command can refuse a flag it would ignore or one
that contradicts another (`refuse_unless`, `refuse_together`) instead of running with exit 0.
"""
from __future__ import annotations

import argparse
from typing import Any, Iterable

from landscape_core.errors import InvalidSpecError

GIVEN = "_given"  # namespace attribute: {dest: the option string typed}, filled as flags are parsed


def readable(value: Any) -> str:
    """Return a default as a user would type it: lists comma-separated, numbers short, no Python reprs."""
    if isinstance(value, (list, tuple)):
        return ",".join(readable(v) for v in value)
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:,g}" if abs(value) >= 1e4 else f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


class HelpFormatter(argparse.HelpFormatter):
    """--help as the project writes it: the description wrapped, each default shown once (examples: OneLineParser).

    An option whose help does not already state its default gets '(default X)', X as typed on the
    command line (`readable`); flags without a value (store_true) and unset defaults get none.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = getattr(action.default, "default", action.default)  # train's not-given marker carries its default
        if ("default" in text or not action.option_strings or default in (None, argparse.SUPPRESS)
                or isinstance(default, bool) or action.nargs == 0):
            return text
        return f"{text} (default {readable(default).replace('%', '%%')})"


def _recording(cls: type) -> type:
    """Return a subclass of the argparse action `cls` that notes its dest and option string in `GIVEN`."""

    class Recording(cls):  # type: ignore[misc, valid-type]
        def __call__(self, parser, namespace, values, option_string=None):
            if option_string is not None:
                seen = getattr(namespace, GIVEN, None)
                if seen is None:
                    seen = {}
                    setattr(namespace, GIVEN, seen)
                seen[self.dest] = option_string
            super().__call__(parser, namespace, values, option_string)

    Recording.__name__ = Recording.__qualname__ = f"Recording{cls.__name__}"
    return Recording


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line and exit code 2, and which records the flags given."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        kwargs["allow_abbrev"] = False  # `--epoch` never silently means `--epochs`
        self.examples = kwargs.pop("epilog", None)  # shown as written, after the wrapped options
        super().__init__(*args, **kwargs)
        for name, cls in list(self._registries["action"].items()):
            if isinstance(cls, type) and issubclass(cls, argparse.Action) and not issubclass(
                    cls, (argparse._SubParsersAction, argparse._HelpAction, argparse._VersionAction)):
                self.register("action", name, _recording(cls))

    def format_help(self) -> str:
        """Return the help with the examples (the epilog) kept line for line."""
        text = super().format_help()
        return text + ("\n" + self.examples.strip("\n") + "\n" if self.examples else "")

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def given(args: argparse.Namespace) -> dict[str, str]:
    """Return {dest: option string} of the flags given on the command line (empty when none)."""
    return dict(getattr(args, GIVEN, None) or {})


def _named(args: argparse.Namespace, dests: Iterable[str]) -> list[str]:
    seen = given(args)
    return [seen[d] for d in dests if d in seen]


def refuse_unless(args: argparse.Namespace, dests: Iterable[str], condition: bool, needs: str) -> None:
    """Refuse (InvalidSpecError) the flags `dests` when given while `condition` is false: they would be ignored.

    `needs` says when they apply, e.g. 'with --optimizer sgdl'.
    """
    named = _named(args, dests)
    if named and not condition:
        raise InvalidSpecError(f"{'/'.join(named)} {'apply' if len(named) > 1 else 'applies'} only {needs}: "
                               f"drop {'them' if len(named) > 1 else 'it'}")


def refuse_together(args: argparse.Namespace, first: Iterable[str], second: Iterable[str], why: str) -> None:
    """Refuse (InvalidSpecError) any flag of `first` given together with any flag of `second`; `why` explains."""
    a, b = _named(args, first), _named(args, second)
    if a and b:
        raise InvalidSpecError(f"{'/'.join(a)} and {'/'.join(b)} contradict each other: {why}")
