"""The committed NEF and manifest files are exactly what neo3-boa makes of the committed sources."""

import json
from pathlib import Path

import pytest

from chain import ContractName, compile_contract, load_contract


@pytest.mark.parametrize("name", list(ContractName))
def test_compiling_the_source_gives_the_committed_bytes(name: ContractName, tmp_path: Path) -> None:
    built = compile_contract(name, tmp_path)
    committed = load_contract(name)
    assert built.nef == committed.nef
    assert built.manifest == committed.manifest


def test_manifests_name_the_contracts_and_standards() -> None:
    token = load_contract(ContractName.TOKEN)
    assert token.manifest_name == "NEOT"
    assert json.loads(token.manifest)["supportedstandards"] == ["NEP-17"]
    assert load_contract(ContractName.ANCHOR).manifest_name == "NEOT Score Anchor"
    assert load_contract(ContractName.ESCROW).manifest_name == "NEOT Escrow"
