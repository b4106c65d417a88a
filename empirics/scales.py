"""Scale presets: `smoke`, `cpu` and `paper`, and the one rule that fills a config from its preset.

Scales: `smoke` (real data, ≤ 2 minutes on 2 CPU cores; tested), `cpu` (a meaningful CPU run,
≤ 15 minutes), `paper` (the paper's protocol, for a GPU). The command line, the benchmarks and the
README read the scale names and limits from here. Library modules (Langevin, toy landscapes) and the
experiments share this module, so library code never imports the experiments package.
"""
from __future__ import annotations

from typing import Any

from landscape_core.errors import InvalidSpecError

SCALES = ("smoke", "cpu", "paper")
# Wall-time limit of one experiment at each scale on 2 idle CPU cores, in seconds (None: no limit).
SCALE_LIMIT_S: dict[str, float | None] = {"smoke": 120.0, "cpu": 900.0, "paper": None}
SCALE_PROMISES = {"smoke": "real data, ≤ 2 min on 2 CPU cores", "cpu": "a meaningful CPU run, ≤ 15 min",
                  "paper": "the paper's protocol (GPU)"}


def describe_scales() -> str:
    """Return the scales and what each promises, as one line for help texts."""
    return "; ".join(f"{s}: {SCALE_PROMISES[s]}" for s in SCALES)


def check_scale(scale: str) -> str:
    """Return `scale` if it is one of SCALES."""
    if scale not in SCALES:
        raise InvalidSpecError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    return scale


def preset_for(presets: dict[str, Any], scale: str, chosen: Any = None) -> Any:
    """Return the preset of `scale` from `presets` (a dict with one entry per scale), or `chosen` when given.

    The one preset rule: a preset (or field) chosen explicitly wins; otherwise the scale's. Experiments
    take whole presets (`preset_for(PRESETS, ctx.scale, preset)`); library configs fill their None
    fields from the scale's (`fill_scale_defaults`, which reads the same kind of dict).
    """
    check_scale(scale)
    if set(presets) != set(SCALES):
        raise InvalidSpecError(f"presets must name every scale ({', '.join(SCALES)}), got {', '.join(presets)}")
    return presets[scale] if chosen is None else chosen


def fill_scale_defaults(config: Any, presets: dict[str, dict[str, Any]]) -> None:
    """Set every field of the frozen dataclass `config` that is None to its value in the scale's preset.

    The one rule for scale presets (`preset_for`): a field the user set wins; a field left None takes the preset.
    """
    for name, value in preset_for(presets, config.scale).items():
        if getattr(config, name) is None:
            object.__setattr__(config, name, value)
