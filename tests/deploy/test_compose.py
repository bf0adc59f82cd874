"""docker-compose.yml is not run here (no Docker engine), so its coherence is checked by reading it."""

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from neot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = compose["services"]
    assert isinstance(services, dict)
    return services


def test_the_production_shape_has_its_five_services(compose: dict[str, Any]) -> None:
    assert set(_services(compose)) == {"postgres", "neo-go", "migrate", "scoring", "insurer-api"}
    assert _services(compose)["neo-go"]["image"].startswith("nspccdev/neo-go:")


def test_every_neot_variable_is_a_setting(compose: dict[str, Any]) -> None:
    fields = {f"NEOT_{name.upper()}" for name in Settings.model_fields}
    for name, service in _services(compose).items():
        for var in service.get("environment", {}):
            if var.startswith("NEOT_"):
                assert var in fields, f"{name} sets {var}, which no setting reads"
    app_env = _services(compose)["insurer-api"]["environment"]
    assert app_env["NEOT_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in app_env["NEOT_DATABASE_URL"]
    assert app_env["NEOT_NEO_RPC_URL"] == "http://neo-go:30333"


def test_dependencies_exist_and_wait_for_health(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name, service in services.items():
        for dep, rule in service.get("depends_on", {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep} to be healthy, it has no check"
            else:
                assert rule["condition"] == "service_completed_successfully"
    assert "migrate" in services["scoring"]["depends_on"]
    assert "migrate" in services["insurer-api"]["depends_on"]


def test_app_services_run_importable_factories_on_the_ports_they_publish(compose: dict[str, Any]) -> None:
    for name in ("scoring", "insurer-api"):
        service = _services(compose)[name]
        command: list[str] = service["command"]
        assert command[:2] == ["uvicorn", "--factory"]
        module, attr = command[2].split(":")
        assert callable(getattr(importlib.import_module(module), attr))
        port = command[command.index("--port") + 1]
        assert service["ports"] == [f"{port}:{port}"]
        assert f"127.0.0.1:{port}/health" in " ".join(service["healthcheck"]["test"])


def test_mounted_files_and_image_sources_exist(compose: dict[str, Any]) -> None:
    for service in _services(compose).values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).is_file(), f"{source} is mounted but missing"
    for source in re.findall(r"^COPY (\S+)", (ROOT / "Dockerfile").read_text(), flags=re.M):
        assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"
    declared = set(compose["volumes"])
    for service in _services(compose).values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith("."):
                assert source in declared


def test_neo_go_config_is_persistent_and_listens_for_the_services(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((ROOT / "chain/docker/protocol.privnet.yml").read_text())
    app_config = config["ApplicationConfiguration"]
    assert app_config["DBConfiguration"]["Type"] == "boltdb"
    assert app_config["DBConfiguration"]["BoltDBOptions"]["FilePath"].startswith("/chains/")
    assert app_config["RPC"]["Addresses"] == [":30333"]
    assert "chaindata:/chains" in _services(compose)["neo-go"]["volumes"]
