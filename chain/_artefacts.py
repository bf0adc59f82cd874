"""The three NEOT contracts: their neo3-boa sources and the compiled artefacts committed next to them.

Deployment uses the committed `.nef` and `.manifest.json`; `compile_contract` rebuilds them from the
source so a test can prove the two match byte for byte. Two quirks of neo3-boa 1.5 are neutralised
so that the output depends on the source and the compiler version only:

- it stamps the short git commit of the current directory into the NEF compiler field, so the
  compiler runs in an empty temporary directory outside any repository;
- it collects a contract's events in a set of objects, so their order in the manifest follows
  memory addresses and changes from run to run; the events are sorted by name afterwards (their
  order carries no meaning in a manifest).
"""

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

__all__ = ["CONTRACTS_DIR", "CompiledContract", "ContractName", "compile_contract", "load_contract"]

CONTRACTS_DIR = Path(__file__).parent / "contracts"


class ContractName(StrEnum):
    """Each contract, named as its source file (`chain/contracts/<name>.py`)."""

    TOKEN = "neot_token"
    ANCHOR = "score_anchor"
    ESCROW = "escrow"


@dataclass(frozen=True, slots=True)
class CompiledContract:
    """A NEF file and its manifest, as bytes exactly as written by the compiler."""

    name: ContractName
    nef: bytes
    manifest: bytes

    @property
    def manifest_name(self) -> str:
        """The `name` in the manifest; with the deployer and NEF checksum it fixes the contract hash."""
        return str(json.loads(self.manifest)["name"])


def load_contract(name: ContractName) -> CompiledContract:
    """The committed artefacts of `name`."""
    return CompiledContract(
        name=name,
        nef=(CONTRACTS_DIR / f"{name}.nef").read_bytes(),
        manifest=(CONTRACTS_DIR / f"{name}.manifest.json").read_bytes(),
    )


def compile_contract(name: ContractName, out_dir: Path) -> CompiledContract:
    """Compile `chain/contracts/<name>.py` with neo3-boa into `out_dir` and return the result."""
    source = CONTRACTS_DIR / f"{name}.py"
    out_dir = out_dir.resolve()
    nef_path = out_dir / f"{name}.nef"
    code = (
        "import sys\n"
        "from boa3.boa3 import Boa3\n"
        "Boa3.compile_and_save(sys.argv[1], output_path=sys.argv[2], show_errors=True)\n"
    )
    env = {**os.environ, "GIT_DIR": os.devnull, "GIT_CEILING_DIRECTORIES": "/"}
    with tempfile.TemporaryDirectory(prefix="neot-boa-") as cwd:
        subprocess.run(
            [sys.executable, "-c", code, str(source), str(nef_path)],
            cwd=cwd,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    manifest_path = out_dir / f"{name}.manifest.json"
    manifest = json.loads(manifest_path.read_bytes())
    manifest["abi"]["events"].sort(key=lambda event: event["name"])
    # the same layout neo3-boa writes (json.dumps with indent=4), only the event order changes
    manifest_path.write_text(json.dumps(manifest, indent=4))
    return CompiledContract(name=name, nef=nef_path.read_bytes(), manifest=manifest_path.read_bytes())
