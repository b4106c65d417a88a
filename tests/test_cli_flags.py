"""One flag vocabulary: outputs are `--out ROOT --run NAME`, inputs `--from PATH`, and `train`'s flags are
exactly TrainConfig's fields."""
import argparse
import dataclasses

import pytest

from landscape_toolkit.cli import build_parser


def _leaves(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    """Return every command's parser (sub-subcommands such as `probe perturb` included), by command line."""
    out = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.update(_leaves(sub, f"{prefix} {name}".strip()))
    return out or {prefix: parser}


LEAVES = _leaves(build_parser())


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {s: a for a in parser._actions for s in a.option_strings}


def test_the_walk_finds_the_commands():
    """The checks below see every command, the probe kinds included."""
    assert {"train", "probe perturb", "mds", "compare", "paths", "experiment", "bezout", "solve", "approx",
            "grid"} <= set(LEAVES)


@pytest.mark.parametrize("command", sorted(LEAVES))
def test_output_flags_follow_the_vocabulary(command):
    """Claim: a command that writes a run folder takes --out ROOT and --run NAME (never --name, never --out
    as the folder itself); --run is an output name, not an input; inputs are --from PATH."""
    opts = _options(LEAVES[command])
    assert "--name" not in opts and "--input" not in opts
    if "--out" in opts or "--run" in opts:
        assert "--out" in opts and "--run" in opts, command
        assert opts["--out"].metavar == "ROOT" and opts["--out"].default == "runs", command
        assert opts["--run"].metavar == "NAME" and not isinstance(opts["--run"], argparse._AppendAction), command
    if "--from" in opts:
        assert opts["--from"].dest == "source" and opts["--from"].metavar == "PATH"
    if "--output" in opts:  # a single exported file (bezout's system, report's HTML), not a run folder
        assert opts["--output"].metavar == "FILE" or opts["--output"].default == "report.html"


def test_probe_and_mds_read_runs_with_from():
    """Claim: the commands that read a training run take it with --from (report: repeatable, like mds), and
    report takes no positional run folders."""
    for command in ("probe perturb", "probe hessian", "mds", "report"):
        assert "--from" in _options(LEAVES[command])
    assert isinstance(_options(LEAVES["report"])["--from"], argparse._AppendAction)
    assert not [a for a in LEAVES["report"]._actions if not a.option_strings]
    args = build_parser().parse_args(["report", "--from", "runs/a", "--from", "runs/b"])
    assert args.source == ["runs/a", "runs/b"]


def test_train_flags_are_exactly_the_train_config_fields():
    """Claim: every train flag sets one TrainConfig field (the model flags together set `model`, and the
    regression `teacher`), and every field has a flag; so the CLI and the config cannot drift apart."""
    from empirics.train import TrainConfig
    from landscape_toolkit.commands import train as command

    dests = {a.dest for a in LEAVES["train"]._actions if a.dest != "help"}
    fields = {command._CONVERTED.get(d, (d,))[0] for d in dests
              if d not in command.NOT_CONFIG and d not in command.MODEL_FLAGS}
    assert set(command.MODEL_FLAGS) <= dests
    assert fields | {"model", "teacher"} == {f.name for f in dataclasses.fields(TrainConfig)}


def test_train_has_one_set_of_network_flags():
    """Claim: train describes every kind of network with one set of flags: --widths for hidden widths, no --width;
    the parsed namespace holds exactly the flags given (so --resume can tell them apart)."""
    opts = _options(LEAVES["train"])
    assert "--widths" in opts and "--width" not in opts
    from landscape_toolkit.commands import train as command

    args = LEAVES["train"].parse_args(["--model", "mlp", "--epochs", "20"])  # 20 is the default: still given
    assert command.given_flags(args) == {"model", "epochs"}
    assert args.epochs == 20 and args.lr == 0.01  # every other flag holds its default


def test_train_builds_one_model_spec_for_every_kind():
    """Claim: --widths gives the hidden widths of the CNN, the MLP and the theory network alike; the regression
    teacher is the theory network of the same flags; --layers sets only a tree's depth: with a fully connected net
    it is refused, as --widths is with a tree (exit 2)."""
    from empirics.train import ModelSpec
    from landscape_toolkit.cli import main
    from landscape_toolkit.commands import train as command

    def config(*argv):
        args = build_parser().parse_args(["train", *argv])
        return command.config_from_args(args, command.given_flags(args))

    assert config("--widths", "4,5,6,7").model == ModelSpec("paper-cnn", widths=(4, 5, 6, 7))
    assert config("--model", "mlp", "--widths", "9", "--no-bias").model == ModelSpec("mlp", widths=(9,), bias=False)
    theory = config("--dataset", "regression", "--model", "theory", "--widths", "3,5", "--input-dim", "4")
    assert theory.model.kind == "theory" and theory.model.network.widths == (4, 3, 5, 1)
    assert theory.model.widths == (3, 5) and theory.teacher == theory.model.network
    assert config("--model", "mlp").teacher is None
    assert main(["train", "--model", "theory", "--layers", "2", "--no-progress"]) == 2
    assert main(["train", "--model", "theory", "--arch", "tree", "--widths", "3", "--no-progress"]) == 2
    tree = config("--dataset", "regression", "--model", "theory", "--arch", "tree", "--layers", "2")
    assert tree.model.network.architecture == "tree" and tree.model.network.widths == (4, 2, 1)


def _examples(parser: argparse.ArgumentParser) -> list[list[str]]:
    """Return the command lines of a parser's examples (its epilog), continuation lines joined, comments cut."""
    import shlex

    text = (getattr(parser, "examples", None) or "").replace("\\\n", " ")
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("cli.py "):
            words = shlex.split(line, comments=True)
            lines.append(words[1:])
    return lines


@pytest.mark.parametrize("command", sorted(LEAVES))
def test_every_command_has_examples_that_parse(command):
    """Claim: every command and sub-command's --help ends with examples, and each of its own example lines parses
    with today's flags (a renamed flag cannot survive in an example)."""
    parser = LEAVES[command]
    help_text = parser.format_help()
    assert "examples:" in help_text, command
    own = [words for words in _examples(parser) if " ".join(words).startswith(command)]
    assert own, f"{command}: no example of itself"
    for words in _examples(parser):
        try:
            build_parser().parse_args(words)
        except SystemExit as exc:
            raise AssertionError(f"{command}: example does not parse: cli.py {' '.join(words)}") from exc


@pytest.mark.parametrize("command", sorted(LEAVES))
def test_lists_are_comma_separated_and_defaults_readable(command):
    """Claim: no flag takes space-separated values (lists are 'a,b,c' everywhere); --help states each default once,
    as it is typed (no Python tuple, no '(default: ...)' beside '(default ...)')."""
    parser = LEAVES[command]
    for action in parser._actions:
        if action.option_strings:
            assert action.nargs not in ("+", "*"), (command, action.option_strings)
    formatter = parser._get_formatter()
    for action in parser._actions:
        if action.help and action.option_strings:
            text = formatter._get_help_string(action)
            assert text.count("(default") <= 1, (command, text)
            assert "(default (" not in text and "(default [" not in text and "(default: (" not in text, (command, text)


# Old spellings that meant something else in some command (one name per meaning).
RETIRED = ("--samples", "--hidden", "--subset", "--test-subset", "--n-train", "--n-test", "--models", "--runs",
           "--max-iter", "--degrees", "--name", "--input")


@pytest.mark.parametrize("command", sorted(LEAVES))
def test_one_name_per_meaning(command):
    """Claim: hidden widths are --widths (layer by layer) or --width (one width, a list being a sweep), every
    layer's width including input and output is --layer-widths, depth is --layers, data points are --points,
    numbers of examples are --examples / --train-examples / --test-examples, data files are --data FILE,
    devices --device checked at parse time; the retired spellings exist nowhere."""
    opts = _options(LEAVES[command])
    for retired in RETIRED:
        assert retired not in opts, (command, retired)
    meanings = {"--widths": "hidden widths", "--layer-widths": "every layer", "--points": "data points",
                "--examples": "examples", "--train-examples": "examples", "--test-examples": "examples"}
    for flag, words in meanings.items():
        if flag in opts:
            assert words in opts[flag].help, (command, flag, opts[flag].help)
    if "--width" in opts:
        assert "hidden width" in opts["--width"].help, command
    if "--layers" in opts:
        assert "depth" in opts["--layers"].help or "number of weight layers" in opts["--layers"].help, command
    if "--data" in opts:
        assert opts["--data"].choices is None and opts["--data"].metavar == "FILE", command
    if "--device" in opts:
        from landscape_toolkit.commands._render import device_name

        assert opts["--device"].type is device_name, command


def test_help_examples_of_solve_formats_are_the_library_formats():
    """The format names written into solve's parser (kept import-free) are the library's."""
    from landscape_toolkit.commands import convert, solve
    from theory.polynomials import files as system_files

    assert solve.SOLUTION_FORMATS == system_files.SOLUTION_FORMATS and convert.FORMATS == system_files.FORMATS


def test_given_flags_are_recorded_with_the_spelling_typed():
    """The parser records which flags the user gave (a default value given explicitly included), so that a
    command can refuse flags it would ignore."""
    from landscape_toolkit.commands._parser import given

    args = build_parser().parse_args(["bezout", "--layers", "3", "-o", "x.phc", "--export", "phc"])
    assert given(args) == {"layers": "--layers", "output": "-o", "export": "--export"}
    assert given(build_parser().parse_args(["bezout"])) == {}
