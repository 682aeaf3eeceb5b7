"""File formats: TrackML CSV(.gz), detectors.csv, Parquet event store, ROOT events (uproot),
tracks, track parameters."""

from tracklearn.io.atomic import atomic_path, save_figure, write_text_atomic
from tracklearn.io.parquet import store_event_ids, write_store
from tracklearn.io.root import event_root_path, write_event_root
from tracklearn.io.track_params import read_track_params, track_params_path, write_track_params
from tracklearn.io.trackml import (
    event_id_from_prefix,
    event_prefix_name,
    find_events,
    read_detector,
    read_event,
    read_store_event,
    read_table,
    write_event,
    write_table,
)
from tracklearn.io.tracks import (
    find_tracks_file,
    read_timing,
    read_tracks,
    read_tracks_labelled,
    write_timing,
    write_tracks,
)

__all__ = [
    "atomic_path",
    "event_id_from_prefix",
    "event_prefix_name",
    "event_root_path",
    "find_events",
    "find_tracks_file",
    "read_detector",
    "read_event",
    "read_store_event",
    "read_table",
    "read_timing",
    "read_track_params",
    "read_tracks",
    "read_tracks_labelled",
    "save_figure",
    "store_event_ids",
    "track_params_path",
    "write_event",
    "write_event_root",
    "write_store",
    "write_table",
    "write_text_atomic",
    "write_timing",
    "write_track_params",
    "write_tracks",
]
