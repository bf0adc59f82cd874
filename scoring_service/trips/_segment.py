"""Trip segmentation: one device's samples, in time order, cut into trips at stops and data gaps.

Rules (after Traccar's trip reports, thresholds from the product's `[trips]`):
- fixes not newer than every fix before them are dropped (late or repeated);
- positions that imply a speed beyond physics from the last good fix are blanked and counted;
- a data gap longer than `stop_gap_s` ends a trip, and so does a stop: a run of samples below
  `stop_speed_kmh` lasting `stop_gap_s` (measured over the stopped samples themselves, so the
  result does not depend on where a caller's data starts);
- a trip runs from its first to its last moving sample; one shorter than `min_distance_m` or
  `min_duration_s` is noise and dropped.

Cuts depend only on nearby samples, so segmenting any suffix of the data that starts after a
cut gives the same later trips: the service segments only samples newer than its last trip.
A trip still running at the end of the data is `closed=False` unless the caller says the data
is `final`.
"""

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scoring_service.products import TripThresholds
from scoring_service.trips._arrays import SampleArrays
from scoring_service.trips._kinematics import drop_gps_jumps, drop_out_of_order, sample_speed_kmh, step_m
from scoring_service.trips._measures import distance_m

__all__ = ["Segmentation", "TripSlice", "segment_trips"]


@dataclass(frozen=True, slots=True)
class TripSlice:
    """Rows `[start, stop)` of `Segmentation.samples` that form one trip."""

    start: int
    stop: int
    gps_jumps: int


@dataclass(frozen=True, slots=True, eq=False)
class Segmentation:
    """The cleaned samples, the trips found in them and what was thrown away."""

    samples: SampleArrays
    trips: tuple[TripSlice, ...]
    #: first sample time of a trip still running at the end of the data, if any
    open_trip_start_ns: int | None
    out_of_order: int
    gps_jumps: int
    dropped_short: int

    def trip_samples(self, trip: TripSlice) -> SampleArrays:
        """The samples of one trip."""
        return self.samples.take(slice(trip.start, trip.stop))


def _runs(mask: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Starts and exclusive ends of the runs of True in `mask`."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def segment_trips(samples: SampleArrays, rules: TripThresholds, *, final: bool = False) -> Segmentation:
    """Cut samples (in arrival or time order) into trips. `final`: no more data will follow, so a
    trip running at the end is complete."""
    cleaned = drop_out_of_order(samples)
    out_of_order = len(samples) - len(cleaned)
    n = len(cleaned)
    if n == 0:
        return Segmentation(cleaned, (), None, out_of_order, 0, 0)
    t = cleaned.time_ns
    gap_ns = int(rules.stop_gap_s * 1e9)
    gap_after = np.diff(t) > gap_ns  # True at i: a data gap between samples i and i+1

    # GPS jumps, judged within each stretch of data between gaps (so a cut resets the reference);
    # the steps between fixes double as the distance driven when no fix is dropped (the usual case)
    lat, lon = cleaned.lat, cleaned.lon
    fixes = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    steps = step_m(lat[fixes], lon[fixes])
    max_speed_ms = rules.max_plausible_speed_kmh / 3.6
    if bool(np.any(steps > max_speed_ms * np.diff(t[fixes]) / 1e9)):
        bounds = np.concatenate(([0], np.flatnonzero(gap_after) + 1, [n]))
        lat, lon = lat.copy(), lon.copy()
        for a, b in itertools.pairwise(bounds):
            lat[a:b], lon[a:b] = drop_gps_jumps(t[a:b], cleaned.lat[a:b], cleaned.lon[a:b], max_speed_ms)
        fixes = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
        steps = step_m(lat[fixes], lon[fixes])
    jumped = np.isfinite(cleaned.lat) & ~np.isfinite(lat)
    cleaned = cleaned.with_positions(lat, lon)

    # moving flag; a sample with no speed at all keeps the state of the one before it
    speed = sample_speed_kmh(cleaned)
    known = np.isfinite(speed)
    moving = np.where(known, speed >= rules.stop_speed_kmh, False)
    if not bool(known.all()):
        idx = np.where(known, np.arange(n), 0)
        np.maximum.accumulate(idx, out=idx)
        moving = np.where(known[idx], moving[idx], False)

    # stops: stationary runs lasting stop_gap_s (until motion resumes, or until the data ends)
    is_stop = np.zeros(n, dtype=bool)
    run_starts, run_ends = _runs(~moving)
    for a, e in zip(run_starts, run_ends, strict=True):
        until = t[e] if e < n and not gap_after[e - 1] else t[e - 1]
        if until - t[a] >= gap_ns:
            is_stop[a:e] = True

    # segments: non-stop samples, cut at gaps; trimmed to first..last moving sample
    # distance along the cleaned fixes, cumulated, so each candidate trip's length is a subtraction
    along_m = np.concatenate(([0.0], np.cumsum(steps)))

    cut_after = gap_after | is_stop[1:] | is_stop[:-1]
    seg_bounds = np.concatenate(([0], np.flatnonzero(cut_after) + 1, [n]))
    trips: list[TripSlice] = []
    open_start: int | None = None
    dropped = 0
    for a, b in itertools.pairwise(seg_bounds):
        if bool(is_stop[a]):
            continue
        moving_idx = np.flatnonzero(moving[a:b])
        if len(moving_idx) == 0:
            continue
        start, stop = a + int(moving_idx[0]), a + int(moving_idx[-1]) + 1
        closed = final or b < n
        if not closed:
            open_start = int(t[start])
            continue
        duration_s = (t[stop - 1] - t[start]) / 1e9
        first_fix, end_fix = np.searchsorted(fixes, [start, stop])
        if end_fix - first_fix >= 2:
            length_m = float(along_m[end_fix - 1] - along_m[first_fix])
        else:  # no positions: speed integrated over time
            length_m = distance_m(cleaned.take(slice(start, stop)), rules.max_sample_gap_s)
        if duration_s < rules.min_duration_s or length_m < rules.min_distance_m:
            dropped += 1
            continue
        trips.append(TripSlice(start, stop, int(np.count_nonzero(jumped[start:stop]))))
    return Segmentation(
        samples=cleaned,
        trips=tuple(trips),
        open_trip_start_ns=open_start,
        out_of_order=out_of_order,
        gps_jumps=int(np.count_nonzero(jumped)),
        dropped_short=dropped,
    )
