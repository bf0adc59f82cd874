"""`neot score-file`, `model synth|train` and `speed-limits build`: scoring recorded trips and
fitting the risk model."""

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from neot.errors import UserError
from neot.settings import get_settings

if TYPE_CHECKING:
    from scoring_service.products import Product
    from scoring_service.risk import DriverFeatures, RiskModel

__all__ = ["model_app", "register", "speed_limits_app"]

model_app = typer.Typer(help="Fit and inspect the claim-frequency risk model.", no_args_is_help=True)
_console = Console()


def _product(spec: str) -> "Product":
    """`standard`, `standard@1` or a path to a product TOML file."""
    from scoring_service.errors import ProductError
    from scoring_service.products import load_product, load_product_file

    try:
        if spec.endswith(".toml"):
            return load_product_file(Path(spec))
        product_id, _, version = spec.partition("@")
        return load_product(product_id, int(version) if version else None)
    except (ProductError, ValueError) as exc:
        raise UserError(str(exc), "give a product id such as 'standard', 'standard@1', or a .toml file") from exc


def _iso(time_ns: int) -> str:
    from protocol import datetime_from_ns

    return datetime_from_ns(time_ns).isoformat(timespec="milliseconds")


def score_file(
    trip_file: Annotated[Path, typer.Argument(help="Recorded trip: replay CSV, or a GPX track.")],
    product: Annotated[str, typer.Option(help="Product id[@version] or a product .toml file.")] = "standard",
    speed_limits: Annotated[
        Path | None, typer.Option(help="Speed-limit segments .csv.gz (default: the shipped OSM extract).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Score a recorded trip file: its trips, events and scores (the same code as the service)."""
    from protocol import TripFileError, parse_json, read_trip_file
    from scoring_service.errors import SpeedLimitError
    from scoring_service.scoring import analyse_samples, score_totals, trip_record
    from scoring_service.speedlimits import OsmSpeedLimits, default_speed_limits
    from scoring_service.trips import SampleArrays

    chosen = _product(product)
    try:
        samples = SampleArrays.from_samples(read_trip_file(trip_file))
        limits = OsmSpeedLimits.from_file(speed_limits) if speed_limits else default_speed_limits()
    except (TripFileError, SpeedLimitError) as exc:
        raise UserError(str(exc), "see the replay CSV format in `neot score-file --help`") from exc
    segmentation, trips = analyse_samples(samples, chosen, limits, final=True)
    results = []
    for trip in trips:
        score = score_totals(trip.totals(), chosen)
        results.append((trip, score, trip_record(trip, score, chosen)))
    if as_json:
        out = {
            "file": str(trip_file),
            "samples": len(samples),
            "out_of_order": segmentation.out_of_order,
            "gps_jumps": segmentation.gps_jumps,
            "dropped_short_trips": segmentation.dropped_short,
            "trips": [
                {
                    "record": parse_json(record),
                    "events": [
                        {
                            "kind": e.kind.value,
                            "start": _iso(e.start_ns),
                            "end": _iso(e.end_ns),
                            "peak": round(e.peak, 3),
                            "lat": e.lat,
                            "lon": e.lon,
                        }
                        for e in trip.events
                    ],
                }
                for trip, _, record in results
            ],
        }
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    summary = Table(title=f"{trip_file.name}: {len(trips)} trip(s) under {chosen.id}@{chosen.version}")
    for column in ("start (UTC)", "minutes", "km", "events", "score"):
        summary.add_column(column, justify="right" if column != "start (UTC)" else "left")
    for trip, score, _ in results:
        summary.add_row(
            _iso(trip.start_ns),
            f"{trip.duration_s / 60:.1f}",
            f"{trip.distance_m / 1000:.2f}",
            str(len(trip.events)),
            str(score.score),
        )
    _console.print(summary)
    for trip, score, _ in results:
        if trip.events:
            events = Table(title=f"events of the trip starting {_iso(trip.start_ns)}")
            for column in ("kind", "start (UTC)", "seconds", "peak", "lat", "lon"):
                events.add_column(column)
            for e in trip.events:
                unit = "km/h over" if e.kind.value == "speeding" else "m/s²"
                events.add_row(
                    e.kind.value,
                    _iso(e.start_ns),
                    f"{e.duration_s:.1f}",
                    f"{e.peak:.2f} {unit}",
                    "" if e.lat is None else f"{e.lat:.6f}",
                    "" if e.lon is None else f"{e.lon:.6f}",
                )
            _console.print(events)
        for reason in score.reasons:
            _console.print(f"  {reason.text}")
    _console.print(
        f"{len(samples)} samples, {segmentation.gps_jumps} GPS jumps filtered, "
        f"{segmentation.out_of_order} out-of-order dropped, {segmentation.dropped_short} short trips dropped"
    )


def _models_dir(models_dir: Path | None) -> Path:
    if models_dir is not None:
        return models_dir
    from neot.settings import ensure_data_dir

    return ensure_data_dir(get_settings()) / "models"


@model_app.command("synth")
def synth(
    out: Annotated[Path, typer.Option(help="Folder for claims.csv and features.csv.")],
    policies: Annotated[int, typer.Option(min=10, help="Number of policies.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 0,
) -> None:
    """Write a synthetic portfolio (stated assumptions in scoring_service/risk/_synthetic.py)."""
    from scoring_service.risk import synthetic_portfolio, write_portfolio_csvs

    claims, features = write_portfolio_csvs(synthetic_portfolio(policies, seed=seed), out)
    _console.print(f"wrote {claims} and {features} (synthetic: not real claims)")


def _print_model(model: "RiskModel", path: Path) -> None:
    table = Table(title=f"claim frequency model v{model.version} ({model.policies} policies, {model.claims} claims)")
    table.add_column("feature")
    table.add_column("coefficient", justify="right")
    table.add_column("relativity per unit", justify="right")

    table.add_row("intercept", f"{model.intercept:.4f}", f"{math.exp(model.intercept):.4f} claims/year")
    for name, coef in zip(model.features, model.coefficients, strict=True):
        table.add_row(name, f"{coef:.4f}", f"{math.exp(coef):.4f}")
    _console.print(table)
    _console.print(f"saved {path}\nsha256 {model.sha256}")


@model_app.command("train")
def train(
    claims: Annotated[Path, typer.Option(help="claims.csv: policy,exposure,claim_count,amount.")],
    features: Annotated[
        Path | None,
        typer.Option(help="features.csv per policy; default: computed from stored trips over each policy period."),
    ] = None,
    models_dir: Annotated[Path | None, typer.Option(help="Where models are saved (default: data dir/models).")] = None,
    severity: Annotated[bool, typer.Option(help="Also fit a Gamma severity model from the amounts.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the saved model document as JSON.")] = False,
) -> None:
    """Fit the Poisson claim-frequency model and save it with its SHA-256 and a new version."""
    from scoring_service.errors import RiskModelError
    from scoring_service.risk import (
        fit_risk_model,
        join_features,
        latest_model,
        read_claims_csv,
        read_features_csv,
        save_model,
    )

    directory = _models_dir(models_dir)
    try:
        table = read_claims_csv(claims)
        if features is not None:
            by_policy = read_features_csv(features)
        else:
            by_policy = _features_from_database([int(p) for p in table.policy])
        try:
            version = latest_model(directory).version + 1
        except RiskModelError:
            version = 1
        model = fit_risk_model(
            join_features(table, by_policy),
            table.exposure,
            table.claim_count,
            version=version,
            amount=table.amount if severity else None,
        )
    except RiskModelError as exc:
        raise UserError(str(exc), "check the claims and features tables") from exc
    path = save_model(model, directory)
    if as_json:
        typer.echo(json.dumps({"path": str(path), "sha256": model.sha256, "model": model.document()}, indent=2))
    else:
        _print_model(model, path)


def _features_from_database(policy_ids: list[int]) -> "dict[int, DriverFeatures]":
    from models import make_engine, make_session_factory
    from neot.db import database_errors
    from scoring_service.risk import features_for_policies

    url = get_settings().database_url
    with database_errors(url):
        engine = make_engine(url)
        try:
            with make_session_factory(engine)() as session:
                return features_for_policies(session, policy_ids)
        finally:
            engine.dispose()


speed_limits_app = typer.Typer(help="Speed-limit data for the speeding detector.", no_args_is_help=True)


@speed_limits_app.command("build")
def build_speed_limits(
    pbf: Annotated[Path, typer.Argument(help="OpenStreetMap extract (.osm.pbf) with maxspeed tags.")],
    out: Annotated[Path, typer.Argument(help="Segments file to write (.csv.gz), for --speed-limits.")],
) -> None:
    """Reduce an OSM extract to the road segments with a posted limit (ODbL: attribute the source)."""
    from scoring_service.errors import SpeedLimitError
    from scoring_service.speedlimits import build_segments_file

    if not pbf.is_file():
        raise UserError(f"no such file: {pbf}", "give the path of an .osm.pbf extract")
    try:
        count = build_segments_file(pbf, out)
    except SpeedLimitError as exc:
        raise UserError(str(exc), "is it an .osm.pbf file?") from exc
    _console.print(f"wrote {count} road segments with a speed limit to {out}")


def register(app: typer.Typer) -> None:
    """Add `score-file`, `model` and `speed-limits` to the root command."""
    app.command("score-file")(score_file)
    app.add_typer(model_app, name="model")
    app.add_typer(speed_limits_app, name="speed-limits")
