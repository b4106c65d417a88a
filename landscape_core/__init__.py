"""The bottom layer: what `theory`, `empirics` and the command line share, with no torch and no mathematics.

Importing it imports nothing else. Modules, one concept each:

* `errors`: every named error (the `ToolkitError` hierarchy), caught once by the command line;
* `serialize`: one conversion of results to JSON; `text`: numbers in one-line messages;
* `seeds`: one user seed, an independent named stream per purpose;
* `progress`: the progress-callback contract between library loops and the command line;
* `records`: atomic writes, JSON reads that name the file, config key checks;
* `runs`: the run protocol (frozen config, library call, frozen result, one run folder, manifest);
* `figures`: figure files checked before work and written atomically;
* `sizes` and `memory`: sizes checked before work, peak memory sampled;
* `executor`: grids of independent tasks on a process pool, submitit's local executor or Slurm.
"""
