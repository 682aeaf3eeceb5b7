"""Scored edges → track candidates: connected components and a walkthrough.

Both builders share one interface (:class:`TrackBuilder`): a graph, one score in
[0, 1] per edge and the number of hits in the event in, track candidates (rows
of the event's hits) out.  No torch here.
"""

from tracklearn.building.base import TrackBuilder, labels_to_tracks
from tracklearn.building.components import ComponentsBuilder, connected_component_labels
from tracklearn.building.walkthrough import WalkthroughBuilder, walkthrough_edges

__all__ = [
    "ComponentsBuilder",
    "TrackBuilder",
    "WalkthroughBuilder",
    "connected_component_labels",
    "labels_to_tracks",
    "walkthrough_edges",
]
