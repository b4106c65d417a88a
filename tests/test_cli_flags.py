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


def train_defaults() -> dict:
    """`train`'s parser defaults are SUPPRESS (to tell given flags on --resume); the real ones are kept aside."""
    from landscape_toolkit.commands import train

    return train.DEFAULTS


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
        default = train_defaults()["out"] if command == "train" else opts["--out"].default
        assert opts["--out"].metavar == "ROOT" and default == "runs", command
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
    assert vars(command.with_defaults(args)) == {**command.DEFAULTS, "model": "mlp", "epochs": 20, "handler": args.handler}


def test_train_builds_one_model_spec_for_every_kind():
    """Claim: --widths gives the hidden widths of the CNN, the MLP and the theory network alike; the regression
    teacher is the theory network of the same flags; --layers sets only a tree's depth: with a fully connected net
    it is refused, as --widths is with a tree (exit 2)."""
    from empirics.train import ModelSpec
    from landscape_toolkit.cli import main
    from landscape_toolkit.commands import train as command

    def config(*argv):
        args = build_parser().parse_args(["train", *argv])
        return command.config_from_args(command.with_defaults(args), command.given_flags(args))

    assert config("--widths", "4,5,6,7").model == ModelSpec("paper-cnn", widths=(4, 5, 6, 7))
    assert config("--model", "mlp", "--widths", "9", "--no-bias").model == ModelSpec("mlp", widths=(9,), bias=False)
    theory = config("--dataset", "regression", "--model", "theory", "--widths", "3,5", "--input-dim", "4")
    assert theory.model.kind == "theory" and theory.model.network.widths == (4, 3, 5, 1)
    assert theory.model.widths == (3, 5) and theory.teacher == theory.model.network
    assert config("--model", "mlp").teacher is None
    assert main(["train", "--model", "theory", "--layers", "2", "--no-progress"]) == 2
    assert main(["train", "--model", "theory", "--arch", "tree", "--widths", "3", "--no-progress"]) == 2
    tree = config("--dataset", "regression", "--model", "theory", "--arch", "tree", "--layers", "2", "--input-dim", "4")
    assert tree.model.network.architecture == "tree" and tree.model.network.widths == (4, 2, 1)
