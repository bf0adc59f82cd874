"""The NEOT story, step by step, on one machine: a local NEO chain, the insurer API, three cars.

Every step uses the product's real parts the way an operator would: the `neot` commands, the
HTTP API with each person's own sign-in, the in-car agent's own process with its signed uplink,
and the NEOT contracts on a neo-go node. Only the drives are scripted (see `_drives.py`).
"""

import asyncio
import calendar
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from demo._api import ApiClient, DemoError
from demo._drives import STYLES, RoadGraph, write_month
from demo._processes import Supervisor
from neot.settings import Settings

__all__ = ["INSURER_USERNAME", "DemoWorld", "Story", "previous_month"]

NEOT = 10**8
DRIVERS: tuple[tuple[str, str, str], ...] = (
    ("calm", "Aino Virtanen", "WVWZZZ1KZAW000101"),
    ("average", "Mikko Laine", "VF1RFB00X56000202"),
    ("aggressive", "Jari Nieminen", "1HGCM82633A004352"),
)
SHOPS: tuple[tuple[str, str, bool], ...] = (
    ("shop-1", "Kallio Motor Works", True),  # seeded with a senior track record on chain
    ("shop-2", "Pasila Auto Repair", False),
)
_PASSWORD = "demo-password-"  # + a per-run random suffix; printed once for signing in to the dashboard
SENIOR_SEED_JOBS = 22
INSURER_USERNAME = "ops@baltic-mutual.demo"


@dataclass
class Car:
    """One driver's car: their account, the agent's folder and what the API knows of it."""

    style: str
    name: str
    vin: str
    label: str
    account: str
    agent_dir: Path
    email: str = ""
    driver_id: int = 0
    vehicle_id: int = 0
    policy_id: int = 0
    device: str = ""


@dataclass
class DemoWorld:
    """Everything the summary reports."""

    rpc_url: str = ""
    network_magic: int = 0
    contracts: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)
    password: str = ""
    drivers: list[dict[str, Any]] = field(default_factory=list)
    shops: list[dict[str, Any]] = field(default_factory=list)
    epochs: list[dict[str, Any]] = field(default_factory=list)
    proof_file: str = ""
    proof_verified: bool = False
    dashboard_url: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "rpc_url": self.rpc_url,
            "network_magic": self.network_magic,
            "contracts": self.contracts,
            "drivers": self.drivers,
            "shops": self.shops,
            "epochs": self.epochs,
            "proof_file": self.proof_file,
            "proof_verified": self.proof_verified,
            "dashboard_url": self.dashboard_url,
        }


class Story:
    """Runs the steps; `say` narrates to the console (stderr when the summary goes out as JSON)."""

    def __init__(self, settings: Settings, console: Console, *, port: int) -> None:
        self.settings = settings
        self.console = console
        self.port = port
        self.data_dir = settings.data_dir.resolve()
        self.chain_dir = self.data_dir / "chain"
        self.demo_dir = self.data_dir / "demo"
        self.world = DemoWorld(dashboard_url=f"http://127.0.0.1:{port}")
        self.api = ApiClient(self.world.dashboard_url)
        self.cars: list[Car] = []
        self.started_node_pid: int | None = None
        self.env = {
            "NEOT_DATA_DIR": str(self.data_dir),
            "NEOT_DATABASE_URL": settings.database_url,
            "NEOT_NEO_RPC_URL": settings.neo_rpc_url,
            "NEOT_LOG_FORMAT": "json",
        }

    def say(self, text: str) -> None:
        self.console.print(text, highlight=False)

    # --- 1. chain ---------------------------------------------------------------------------
    def start_chain(self) -> None:
        from urllib.parse import urlparse

        from chain import DEMO_ACCOUNTS, Deployment, committee_account, deploy_neot
        from chain.node import NeoGoNode, running_pid

        home = self.chain_dir / "node"
        port = urlparse(self.settings.neo_rpc_url).port or 30333
        node = NeoGoNode(home, rpc_port=port, persistent=True)
        if running_pid(home) is None:
            with self.console.status("starting the local NEO N3 chain (neo-go, BoltDB under the data dir)…"):
                node.start(timeout_s=60)
            self.started_node_pid = node.pid
            self.say(f"[green]✓[/] neo-go node at {node.rpc_url} (pid {node.pid})")
        else:
            self.say(f"[green]✓[/] reusing the running neo-go node at {node.rpc_url}")
        labels = (*DEMO_ACCOUNTS, "driver-3")
        with self.console.status("deploying the NEOT token, score anchor and escrow (reused when present)…"):
            report = asyncio.run(deploy_neot(node.rpc_url, self.chain_dir, committee_account(), labels=labels))
        deployment = Deployment.load(self.chain_dir)
        self.world.rpc_url = deployment.rpc_url
        self.world.network_magic = deployment.network_magic
        self.world.contracts = deployment.contracts.to_json()
        self.world.accounts = dict(deployment.accounts)
        verb = "deployed " + ", ".join(report.deployed) if report.deployed else "already deployed, reused"
        self.say(f"[green]✓[/] contracts {verb}: NEOT token {self.world.contracts['neot_token']}")

    def stop_chain(self) -> None:
        """Stop the node if this demo started it (a node the user started keeps running)."""
        from chain.node import stop_pid

        if self.started_node_pid is not None:
            stop_pid(self.started_node_pid, timeout_s=10)
            (self.chain_dir / "node" / "neogo.pid").unlink(missing_ok=True)
            self.started_node_pid = None

    # --- 2. services ------------------------------------------------------------------------
    def start_services(self, sup: Supervisor) -> None:
        from chain.node import port_is_free

        if not port_is_free(self.port):
            raise DemoError(f"port {self.port} on 127.0.0.1 is in use; stop what holds it or pass --port")
        self.run_neot("db", "upgrade")
        self.train_risk_model()
        sup.start(
            "insurer-api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "insurer_api.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=self.env,
        )
        with self.console.status(f"starting the insurer API and scoring service on {self.world.dashboard_url}…"):
            self.api.wait_healthy()
        sup.start("anchorer", [self._neot(), "anchor", "run", "--every-min", "0.02", "--poll-s", "0.5"], env=self.env)
        self.say(f"[green]✓[/] insurer API + scoring service at {self.world.dashboard_url}; anchoring service running")

    def train_risk_model(self) -> None:
        """Fit the claim-frequency model on the documented synthetic portfolio (no real claims exist)."""
        models = self.data_dir / "models"
        if any(models.glob("risk-model-v*-*.json")):
            return
        portfolio = self.demo_dir / "portfolio"
        with self.console.status("fitting the Poisson claim-frequency model on a synthetic portfolio…"):
            self.run_neot("model", "synth", "--out", str(portfolio), "--policies", "20000", "--seed", "1")
            self.run_neot(
                "model",
                "train",
                "--claims",
                str(portfolio / "claims.csv"),
                "--features",
                str(portfolio / "features.csv"),
                "--models-dir",
                str(models),
            )
        self.say("[green]✓[/] risk model fitted and saved with its SHA-256")

    # --- 3. people, products, policies, deposits, shops --------------------------------------
    def seed(self, period_start: date, period_end: date) -> None:
        import secrets

        self.world.password = _PASSWORD + secrets.token_hex(4)
        password = self.world.password
        # the one bootstrap step, as an operator does it: the first administrator (password typed twice)
        self.run_neot("api", "create-admin", "admin@neot.demo", stdin=f"{password}\n{password}\n")
        self.api.sign_in("admin", "admin@neot.demo", password)
        insurer = self.world.accounts["insurer-1"]
        self.api.call(
            "admin",
            "POST",
            "/v1/insurers",
            json={
                "name": "Baltic Mutual",
                "neo_address": insurer,
                "username": INSURER_USERNAME,
                "password": password,
            },
        )
        self.api.sign_in("insurer", INSURER_USERNAME, password)
        product = self.api.call(
            "insurer", "POST", "/v1/products", json={"definition_id": "standard", "definition_version": 1}
        )
        self.say(f"[green]✓[/] insurer Baltic Mutual (operator {insurer}) offers product {product['name']!r}")

        for i, (style, name, vin) in enumerate(DRIVERS, start=1):
            label = f"driver-{i}"
            car = Car(style, name, vin, label, self.world.accounts[label], self.demo_dir / f"car-{style}")
            car.email = f"{name.split()[0].lower()}@drivers.demo"
            self.api.call(
                None,
                "POST",
                "/v1/drivers",
                json={"name": name, "email": car.email, "password": password, "neo_address": car.account},
            )
            self.api.sign_in(style, car.email, password)
            vehicle = self.api.call(style, "POST", "/v1/vehicles", json={"vin": vin})
            car.vehicle_id = vehicle["id"]
            key = self._device_key(car)
            self.api.call(style, "POST", f"/v1/vehicles/{car.vehicle_id}/devices", json={"public_key": key})
            policy = self.api.call(
                "insurer",
                "POST",
                "/v1/policies",
                json={
                    "product_id": product["id"],
                    "driver_email": car.email,
                    "vin": vin,
                    "period_start": period_start.isoformat(),
                    "period_end": period_end.isoformat(),
                },
            )
            car.policy_id = policy["id"]
            car.driver_id = policy["driver_id"]
            self.api.call(style, "POST", f"/v1/policies/{car.policy_id}/accept")
            self._deposit(car, period_end)
            self.cars.append(car)
            self.say(
                f"[green]✓[/] {name} ({style}): vehicle {vin}, device {car.device}, policy {car.policy_id}, "
                f"deposit in escrow"
            )

        for label, shop_name, senior in SHOPS:
            self.api.call(
                None,
                "POST",
                "/v1/repair-shops",
                json={
                    "name": shop_name,
                    "neo_address": self.world.accounts[label],
                    "services": ["dtc:P0*", "dtc:P1*"],
                    "capacity": 3,
                    "username": f"{label}@shops.demo",
                    "password": password,
                },
            )
            if senior:
                self._seed_track_record(label)
        self.say(
            f"[green]✓[/] repair shops {SHOPS[0][1]} (senior: {SENIOR_SEED_JOBS} jobs on chain) and {SHOPS[1][1]} (new)"
        )

    def _device_key(self, car: Car) -> str:
        """`neot agent keygen`, as a car's installer would run it; returns the public key (hex)."""
        from vehicle_agent import load_key_file

        key_file = car.agent_dir / "device.key"
        if not key_file.exists():
            self.run_neot("agent", "keygen", "--out", str(key_file))
        key = load_key_file(key_file)
        car.device = key.address
        return key.public_key.hex()

    def _deposit(self, car: Car, period_end: date) -> None:
        """The driver funds the policy from their own wallet, then tells the insurer the tx."""
        from chain import ChainClient, Deployment

        terms = self.api.call(car.style, "GET", f"/v1/policies/{car.policy_id}/deposit")
        deployment = Deployment.load(self.chain_dir)
        client = ChainClient.from_deployment(deployment)
        driver = deployment.keyring().account(car.label)
        end = datetime.combine(period_end, datetime.max.time(), UTC)
        receipt = asyncio.run(
            client.deposit_premium(
                driver,
                terms["chain_policy_id"],
                operator=terms["operator"],
                amount=300 * NEOT,
                cap_per_period=150 * NEOT,
                end=end,
            )
        )
        self.api.call(
            car.style,
            "POST",
            f"/v1/policies/{car.policy_id}/deposits",
            json={"tx_hash": receipt.tx_hash},
            idempotent=True,
        )

    def _seed_track_record(self, label: str) -> None:
        """History for the senior shop: jobs locked and released on chain by the insurer."""
        from chain import ChainClient, ContractCall, Deployment, to_script_hash

        deployment = Deployment.load(self.chain_dir)
        client = ChainClient.from_deployment(deployment)
        insurer = deployment.keyring().account("insurer-1")
        shop, royalty = deployment.address(label), deployment.address("royalty")

        async def seed() -> None:
            calls = []
            for n in range(SENIOR_SEED_JOBS):
                job_id = f"seed/{label}/{n}".encode()
                amount = 200 * NEOT
                calls.append(
                    client.neot_transfer_call(
                        insurer, deployment.contracts.escrow, amount, ["job", job_id, to_script_hash(shop)]
                    )
                )
                calls.append(
                    ContractCall(
                        deployment.contracts.escrow,
                        "release",
                        [job_id, to_script_hash(shop), amount * 95 // 100, to_script_hash(royalty), amount * 5 // 100],
                    )
                )
            for start in range(0, len(calls), 16):
                await client.send(insurer, *calls[start : start + 16], operation="seed track record")

        if asyncio.run(client.get_job(f"seed/{label}/0")) is None:
            asyncio.run(seed())

    # --- 4. the cars drive a month ----------------------------------------------------------
    def drive_month(self, sup: Supervisor, month_start: date, days: int) -> None:
        from scoring_service.speedlimits import DEFAULT_SEGMENTS_FILE

        graph = RoadGraph.from_segments_file(DEFAULT_SEGMENTS_FILE)
        end = date.fromordinal(month_start.toordinal() + days)
        agents: list[tuple[Car, subprocess.Popen[bytes]]] = []
        for seed, car in enumerate(self.cars, start=1):
            month = car.agent_dir / "month.csv"
            trips, km = write_month(month, graph, STYLES[car.style], seed=seed, end=end, days=days)
            config = self._agent_config(
                car, [{"kind": "replay", "path": str(month), "speed": 0, "rebase_time": False}], name="history.toml"
            )
            argv = [self._neot(), "agent", "run", "--config", str(config), "--until-drained"]
            agents.append((car, sup.start(f"agent-{car.style}-history", argv, env=self.env)))
            self.say(f"  {car.name}'s agent replays {trips} recorded trips ({km:.0f} km) through its uplink")
        with _progress(self.console) as progress:
            tasks = {car.style: progress.add_task(f"{car.style} car uploading", total=None) for car, _ in agents}
            while True:
                running = any(p.poll() is None for _, p in agents)
                for car, proc in agents:
                    uploaded, taken = _uploaded(car.agent_dir / "history.sqlite3")
                    progress.update(tasks[car.style], completed=uploaded, total=taken or None)
                    if proc.poll() is not None:
                        progress.update(tasks[car.style], description=f"{car.style} car done")
                if not running:
                    break
                time.sleep(0.5)
        failed = [car.style for car, p in agents if p.returncode != 0]
        if failed:
            raise DemoError(
                f"agents of {', '.join(failed)} exited with an error; see {self.data_dir}/demo-logs/agent-*-history.log"
            )
        self.say("[green]✓[/] every sample of the month reached the scoring service (signed, numbered, de-duplicated)")

    def _agent_config(self, car: Car, adapters: list[dict[str, Any]], *, name: str, **agent: Any) -> Path:
        lines = [
            "[agent]",
            'key_file = "device.key"',
            f'buffer_file = "{Path(name).stem}.sqlite3"',
            "sample_rate_hz = 10",
            "upload_interval_s = 2",
            "max_batch_samples = 5000",
            *(f"{k} = {json.dumps(v)}" for k, v in agent.items()),
            "",
            "[server]",
            f'url = "{self.world.dashboard_url}"',
            "min_backoff_s = 0.5",
            "max_backoff_s = 5",
        ]
        for adapter in adapters:
            lines += ["", "[[adapters]]", *(f"{k} = {json.dumps(v)}" for k, v in adapter.items())]
        path = car.agent_dir / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    # --- 5. scores, epochs, statements, premiums --------------------------------------------
    def score_and_bill(self, period: str) -> None:
        with self.console.status("segmenting trips and scoring them (neot score-worker --once)…"):
            self.run_neot("score-worker", "--once", "--settle-s", "60")
        for car in self.cars:
            statement = self.api.call(
                "insurer", "POST", f"/v1/policies/{car.policy_id}/statements", json={"period": period}, idempotent=True
            )
            tx = (statement.get("payment") or {}).get("tx_hash")
            self.world.drivers.append(
                {
                    "name": car.name,
                    "style": car.style,
                    "email": car.email,
                    "address": car.account,
                    "device": car.device,
                    "policy_id": car.policy_id,
                    "statement_id": statement["id"],
                    "trips": statement["trip_count"],
                    "km": round(statement["distance_m"] / 1000, 1),
                    "score": statement["driver_score"],
                    "risk_factor": statement["risk_factor"],
                    "premium": statement["premium"],
                    "charge_tx": tx,
                    "charge_error": statement.get("charge_error"),
                }
            )
            self.say(
                f"[green]✓[/] {car.name}: {statement['trip_count']} trips, score {statement['driver_score']}, "
                f"premium {statement['premium'] / NEOT:.2f} NEOT charged in tx {tx}"
            )

    def wait_for_anchor(self, timeout_s: float = 120.0) -> list[dict[str, Any]]:
        """Wait until every committed record sits in a confirmed epoch."""
        deadline = time.monotonic() + timeout_s
        with self.console.status("closing the Merkle epoch and anchoring its root on NEO…"):
            while time.monotonic() < deadline:
                epochs = self.api.call("insurer", "GET", "/v1/epochs")
                if (
                    epochs
                    and all(e["state"] == "confirmed" for e in epochs if e["leaf_count"] > 0)
                    and any(e["state"] == "confirmed" for e in epochs)
                    and not any(e["state"] in ("open", "closed", "sent") and e["leaf_count"] > 0 for e in epochs)
                ):
                    return list(epochs)
                time.sleep(0.5)
        raise DemoError(f"epochs were not anchored within {timeout_s:.0f} s; see {self.demo_dir}/../demo-logs")

    # --- 6. a trouble code becomes a paid repair --------------------------------------------
    def repair(self, sup: Supervisor) -> None:
        from demo.emulated_car import EmulatedCar

        car = next(c for c in self.cars if c.style == "aggressive")
        emulator = EmulatedCar.start("aggressive", "tcp", log_path=self.demo_dir / "emulator.log")
        try:
            config = self._agent_config(
                car,
                [{"kind": "obd", "port": emulator.url, "protocol": "6", "fast": False}],
                name="live.toml",
                trouble_code_interval_s=1,
            )
            sup.start("agent-live", [self._neot(), "agent", "run", "--config", str(config)], env=self.env)
            self.say(
                f"  {car.name}'s car is on the road with its agent reading OBD-II from an ELM327 at {emulator.url}"
            )
            time.sleep(3)
            emulator.raise_dtc("P0301")
            self.say("  the engine ECU stores [bold]P0301[/] (cylinder 1 misfire); the agent reports it, signed")
            job = self._wait_job(lambda j: j["state"] == "locked", "a repair job with funds locked in escrow")
            explanation = self.api.call("insurer", "GET", f"/v1/repair-jobs/{job['id']}/explanation")
            shop_label = next(lbl for lbl, _, _ in SHOPS if self._shop_id(lbl) == job["shop_id"])
            self.say(
                f"[green]✓[/] job {job['id']}: Negotiation chose {_shop_name(shop_label)} — "
                f"{explanation['reason']}; {job['authorised_amount'] / NEOT:.0f} NEOT frozen in escrow"
            )
            self.api.sign_in(shop_label, f"{shop_label}@shops.demo", self.world.password)
            invoice = 180 * NEOT
            self.api.call(
                shop_label, "POST", f"/v1/repair-jobs/{job['id']}/invoice", json={"amount": invoice}, idempotent=True
            )
            self.say(f"  the shop invoices {invoice / NEOT:.0f} NEOT and clears the code in the workshop")
            emulator.clear_dtcs()
            paid = self._wait_job(lambda j: j["id"] == job["id"] and j["state"] == "paid", "the payout")
            self.world.shops.append(
                {
                    "shop": _shop_name(shop_label),
                    "address": self.world.accounts[shop_label],
                    "job_id": paid["id"],
                    "dtc": paid["dtc"],
                    "invoice": paid["invoice_amount"],
                    "shop_amount": paid["shop_amount"],
                    "royalty_amount": paid["royalty_amount"],
                    "chain_job_id": paid["chain_job_id"],
                    "payout_tx": self._payout_tx(paid["id"]),
                }
            )
            share = paid["shop_amount"] * 100 // paid["invoice_amount"]
            self.say(
                f"[green]✓[/] code cleared → completion verified → {_shop_name(shop_label)} paid "
                f"{paid['shop_amount'] / NEOT:.2f} NEOT ({share} % of the invoice), royalty "
                f"{paid['royalty_amount'] / NEOT:.2f} NEOT, the rest back to the insurer"
            )
        finally:
            emulator.stop()

    def _wait_job(self, done: Callable[[dict[str, Any]], bool], what: str, timeout_s: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for job in self.api.call("insurer", "GET", "/v1/repair-jobs"):
                if done(job):
                    return dict(job)
            time.sleep(0.5)
        raise DemoError(f"waited {timeout_s:.0f} s for {what}; see {self.data_dir}/demo-logs")

    def _shop_id(self, label: str) -> int:
        address = self.world.accounts[label]
        return int(
            next(s["id"] for s in self.api.call("insurer", "GET", "/v1/repair-shops") if s["neo_address"] == address)
        )

    def _payout_tx(self, job_id: int) -> str | None:
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from models import Payment, PaymentState, make_engine

        engine = make_engine(self.settings.database_url)
        with Session(engine) as session:
            tx = session.scalar(
                select(Payment.intended_tx).where(
                    Payment.idempotency_key == f"job:{job_id}:release", Payment.state == PaymentState.CONFIRMED
                )
            )
        engine.dispose()
        return tx

    # --- 7. a proof anyone can check -----------------------------------------------------------
    def prove(self) -> None:
        car = next(c for c in self.cars if c.style == "aggressive")
        trips = self.api.call(car.style, "GET", "/v1/trips")
        score = self.api.call(car.style, "GET", f"/v1/trips/{trips[-1]['id']}/scores")[0]
        proof = self.data_dir / "proof.json"
        self.run_neot("proof", f"trip_score/{score['id']}", "--out", str(proof))
        verdict = subprocess.run(
            [self._neot(), "verify", str(proof), "--rpc", self.world.rpc_url],
            capture_output=True,
            text=True,
            env={**os.environ, **self.env},
        )
        self.world.proof_file = str(proof)
        self.world.proof_verified = verdict.returncode == 0
        mark = "[green]✓[/]" if verdict.returncode == 0 else "[red]✗[/]"
        self.say(
            f"{mark} trip score {score['id']} (score {score['score']}) proved against the root on chain: "
            f"`neot verify {proof} --rpc {self.world.rpc_url}`"
        )
        if verdict.returncode != 0:
            raise DemoError(f"the proof did not verify: {verdict.stdout}{verdict.stderr}")

    # --- helpers ------------------------------------------------------------------------------
    def _neot(self) -> str:
        return str(Path(sys.executable).with_name("neot"))

    def run_neot(self, *args: str, stdin: str | None = None) -> str:
        """Run a `neot` command as an operator would; its output, or a DemoError with its message."""
        result = subprocess.run(
            [self._neot(), *args], input=stdin, capture_output=True, text=True, env={**os.environ, **self.env}
        )
        if result.returncode != 0:
            raise DemoError(f"`neot {' '.join(args)}` failed: {(result.stderr or result.stdout).strip()[-500:]}")
        return result.stdout


def previous_month(today: date) -> tuple[date, int, str]:
    """First day, number of days and `YYYY-MM` of the calendar month before `today`'s."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return date(year, month, 1), calendar.monthrange(year, month)[1], f"{year:04d}-{month:02d}"


def _uploaded(buffer_file: Path) -> tuple[int, int]:
    """(samples the server has, samples the agent took) from the agent's buffer file, read-only."""
    from vehicle_agent import Buffer, BufferError

    if not buffer_file.exists():
        return 0, 0
    try:
        buffer = Buffer(buffer_file, max_samples=1, read_only=True)
    except BufferError:  # the agent is still creating it
        return 0, 0
    try:
        stats = buffer.stats()
    finally:
        buffer.close()
    return stats.taken_samples - stats.depth, stats.taken_samples


def _progress(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} samples"),
        TimeElapsedColumn(),
        console=console,
    )


def _shop_name(label: str) -> str:
    return next(name for lbl, name, _ in SHOPS if lbl == label)
