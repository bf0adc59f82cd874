"""docker-compose.yml against the test that runs it: every service is one
`tests/e2e/test_production_shape.py` starts (with the command and environment derived here from
this file) or one it replaces (PostgreSQL, neo-go); a service added without it fails here.
What cannot be run on this machine (images, volumes, the Dockerfile) is checked by reading."""

import re
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from neot.cli import app, register_commands
from neot.settings import Settings
from tests.e2e.production_shape import (
    COMPOSE_FILE,
    LONG_RUNNING,
    ONE_SHOT,
    REPLACED,
    command,
    compose_services,
    healthcheck,
    service_ports,
)

ROOT = COMPOSE_FILE.parent


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_every_service_is_run_or_replaced_by_the_production_shape_test() -> None:
    services = compose_services()
    assert set(services) == set(REPLACED) | set(ONE_SHOT) | set(LONG_RUNNING), (
        "a compose service must be started by tests/e2e/test_production_shape.py (ONE_SHOT or LONG_RUNNING "
        "in tests/e2e/production_shape.py) or stand in REPLACED with what replaces it"
    )
    for name in (*ONE_SHOT, *LONG_RUNNING):
        assert services[name].get("build") == ".", f"{name} must run this repository's image"
        assert services[name].get("command"), f"{name} runs no explicit command; the test could not run it"
    for name in REPLACED:
        assert "build" not in services[name], f"{name} is built from this repository: the test must run it"


def test_the_test_changes_nothing_in_a_command_but_the_ports_and_the_bind_address() -> None:
    for name in (*ONE_SHOT, *LONG_RUNNING):
        original: list[str] = compose_services()[name]["command"]
        ports = {port: 40_000 + i for i, port in enumerate(service_ports(name))}
        ran = command(name, ports)
        assert Path(ran[0]).name == original[0]
        for compose_arg, ran_arg in zip(original[1:], ran[1:], strict=True):
            allowed = {compose_arg, "127.0.0.1" if compose_arg == "0.0.0.0" else compose_arg}
            if compose_arg.isdigit() and int(compose_arg) in ports:
                allowed = {str(ports[int(compose_arg)])}
            assert ran_arg in allowed, f"{name}: the test runs {ran_arg!r} where compose has {compose_arg!r}"


def test_each_long_running_service_is_checked_on_a_port_it_serves_and_publishes_what_it_serves() -> None:
    services = compose_services()
    for name in LONG_RUNNING:
        check = " ".join(services[name]["healthcheck"]["test"])
        (port,) = (int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)/health", check))
        assert port in service_ports(name), f"{name}'s health check polls port {port}, which its command does not serve"
        assert healthcheck(name, {port: 1})[-1].count("127.0.0.1:1/health") == 1
        for published in services[name].get("ports", []):
            outside, inside = published.split(":")
            assert outside == inside and int(inside) in service_ports(name), f"{name} publishes {published}"


def _option_envvars(argv: list[str]) -> set[str]:
    """Environment variables read by the options of the `neot` command `argv` names."""
    register_commands()
    node: Any = typer.main.get_command(app)
    for word in argv[1:]:
        if word not in getattr(node, "commands", {}):  # a group's subcommand, until the options begin
            break
        node = node.commands[word]
    names: set[str] = set()
    for param in node.params:
        envvar = param.envvar
        names.update([envvar] if isinstance(envvar, str) else list(envvar or ()))
    return names


def test_every_neot_variable_is_read_by_a_setting_or_the_services_command() -> None:
    settings = {f"NEOT_{name.upper()}" for name in Settings.model_fields}
    for name, service in compose_services().items():
        argv = service.get("command", [])
        readers = settings | (_option_envvars(argv) if argv[:1] == ["neot"] else set())
        for var in service.get("environment", {}):
            if var.startswith("NEOT_"):
                assert var in readers, f"{name} sets {var}, which neither a setting nor its command reads"
    api_env = compose_services()["insurer-api"]["environment"]
    assert (
        api_env["NEOT_DATABASE_URL"].startswith("postgresql+psycopg://")
        and "@postgres:5432/" in api_env["NEOT_DATABASE_URL"]
    )
    assert api_env["NEOT_NEO_RPC_URL"] == "http://neo-go:30333"


def test_dependencies_exist_and_wait_for_health_or_completion() -> None:
    services = compose_services()
    for name, service in services.items():
        for dep, rule in service.get("depends_on", {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep} to be healthy, it has no check"
            else:
                assert rule["condition"] == "service_completed_successfully" and dep in ONE_SHOT
    for name in LONG_RUNNING:
        assert "migrate" in services[name]["depends_on"], f"{name} must wait for the schema"
    for name in ("anchorer", "insurer-api"):
        assert "deploy" in services[name]["depends_on"], f"{name} reads the deployment {name} needs"


def test_services_that_share_the_data_folder_mount_it_and_the_image_lets_them_write_it(
    compose: dict[str, Any],
) -> None:
    services = compose_services()
    for name in ("migrate", "deploy", "anchorer", "insurer-api"):
        assert "neotdata:/data" in services[name]["volumes"], f"{name} reads or writes /data"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"chown nobody\S* /data", dockerfile) and "USER nobody" in dockerfile
    for source in re.findall(r"^COPY (\S+)", dockerfile, flags=re.M):
        assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"
    declared = set(compose["volumes"])
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).is_file(), f"{source} is mounted but missing"
            else:
                assert source in declared, f"volume {source} is not declared"


def test_neo_go_config_is_persistent_and_listens_for_the_services() -> None:
    config = yaml.safe_load((ROOT / "chain/docker/protocol.privnet.yml").read_text())
    app_config = config["ApplicationConfiguration"]
    assert app_config["DBConfiguration"]["Type"] == "boltdb"
    assert app_config["DBConfiguration"]["BoltDBOptions"]["FilePath"].startswith("/chains/")
    assert app_config["RPC"]["Addresses"] == [":30333"]
    assert "chaindata:/chains" in compose_services()["neo-go"]["volumes"]
