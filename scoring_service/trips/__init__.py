"""Samples as numpy columns, motion arithmetic, trip segmentation and trip measures."""

from scoring_service.trips._arrays import FloatArray, IntArray, SampleArrays, SampleLike
from scoring_service.trips._kinematics import (
    IndexArray,
    SpeedSource,
    bearing_rad,
    differenced_from_positions,
    drop_gps_jumps,
    drop_out_of_order,
    haversine_m,
    heading_rad,
    moving_average,
    rate_per_s,
    sample_speed_kmh,
    seconds_since_start,
    step_m,
    trip_speed_ms,
    window_bounds,
)
from scoring_service.trips._measures import distance_m, duration_s, idle_s
from scoring_service.trips._segment import Segmentation, TripSlice, segment_trips

__all__ = [
    "FloatArray",
    "IndexArray",
    "IntArray",
    "SampleArrays",
    "SampleLike",
    "Segmentation",
    "SpeedSource",
    "TripSlice",
    "bearing_rad",
    "differenced_from_positions",
    "distance_m",
    "drop_gps_jumps",
    "drop_out_of_order",
    "duration_s",
    "haversine_m",
    "heading_rad",
    "idle_s",
    "moving_average",
    "rate_per_s",
    "sample_speed_kmh",
    "seconds_since_start",
    "segment_trips",
    "step_m",
    "trip_speed_ms",
    "window_bounds",
]
