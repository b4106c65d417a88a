"""Empirical harness: the same networks in PyTorch, data, trainers, flatness probes, MDS, plots."""
