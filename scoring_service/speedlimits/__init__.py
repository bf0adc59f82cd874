"""Posted speed limits for the speeding detector: a provider interface and the OSM-based default."""

from scoring_service.speedlimits._osm import (
    DEFAULT_SEGMENTS_FILE,
    OsmSpeedLimits,
    build_segments_file,
    default_speed_limits,
    parse_maxspeed,
)
from scoring_service.speedlimits._provider import SpeedLimitProvider

__all__ = [
    "DEFAULT_SEGMENTS_FILE",
    "OsmSpeedLimits",
    "SpeedLimitProvider",
    "build_segments_file",
    "default_speed_limits",
    "parse_maxspeed",
]
