"""Scored edges → track candidates: connected components, a walkthrough and a hybrid.

Every builder shares one interface (:class:`TrackBuilder`): a graph, one score in
[0, 1] per edge, the number of hits in the event and (for the hybrid) the layer
of every hit in, track candidates (rows of the event's hits) out.  Builders are
registered by name (:func:`make_track_builder`).  No torch here.
"""

from tracklearn.building.base import TrackBuilder, labels_to_tracks
from tracklearn.building.components import ComponentsBuilder, connected_component_labels
from tracklearn.building.hybrid import HybridBuilder, clean_component_mask, join_units
from tracklearn.building.registry import (
    make_track_builder,
    register_track_builder,
    track_builder_names,
)
from tracklearn.building.walkthrough import WalkthroughBuilder, walkthrough_edges

__all__ = [
    "ComponentsBuilder",
    "HybridBuilder",
    "TrackBuilder",
    "WalkthroughBuilder",
    "clean_component_mask",
    "connected_component_labels",
    "join_units",
    "labels_to_tracks",
    "make_track_builder",
    "register_track_builder",
    "track_builder_names",
    "walkthrough_edges",
]
