#!/usr/bin/env python3
"""Entry point from a source checkout: `python cli.py <command> [options]` (installed: `landscape-toolkit`).

The parser and the dispatch live in `landscape_toolkit.cli`; `python cli.py --help` lists the commands.
"""
import sys

from landscape_toolkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
