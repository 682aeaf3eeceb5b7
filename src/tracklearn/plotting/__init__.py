"""Plots: functions that take data and a matplotlib ``Axes`` and draw onto it."""

from tracklearn.plotting.efficiency import plot_efficiency, plot_track_lengths

__all__ = ["plot_efficiency", "plot_track_lengths"]
