"""Event data model: frozen, validated struct-of-arrays tables (units in each docstring)."""

from tracklearn.edm.buckets import Buckets
from tracklearn.edm.detector import Detector, layer_key, module_key, split_layer_key
from tracklearn.edm.event import Event
from tracklearn.edm.graph import Graph
from tracklearn.edm.hits import Cells, Hits
from tracklearn.edm.particles import Particles, Truth
from tracklearn.edm.scored_edges import ScoredEdges
from tracklearn.edm.track_candidates import TrackCandidates
from tracklearn.edm.track_parameters import TrackParameters

__all__ = [
    "Buckets",
    "Cells",
    "Detector",
    "Event",
    "Graph",
    "Hits",
    "Particles",
    "ScoredEdges",
    "TrackCandidates",
    "TrackParameters",
    "Truth",
    "layer_key",
    "module_key",
    "split_layer_key",
]
