"""Deployment records and keys: idempotent re-deploys, a funded external wallet, files that keep
secrets to themselves."""

import asyncio
import json
import stat
from pathlib import Path

import pytest
from neo3.wallet import wallet as neo_wallet
from neo3.wallet.scrypt_parameters import ScryptParameters

from chain import (
    ChainClient,
    Deployment,
    DeploymentError,
    committee_account,
    create_keyring,
    deploy_neot,
    open_keyring,
    wallet_account,
)
from tests.chain_fixtures import TEST_ACCOUNTS, DeployedChain

pytestmark = pytest.mark.chain

GAS = 10**8


def test_redeploying_deploys_nothing_new(neot_chain: DeployedChain) -> None:
    report = asyncio.run(
        deploy_neot(
            neot_chain.deployment.rpc_url,
            neot_chain.chain_dir,
            committee_account(),
            labels=TEST_ACCOUNTS,
            fast_kdf=True,
        )
    )
    assert report.deployed == []
    assert report.deployment.contracts.to_json() == neot_chain.deployment.contracts.to_json()
    assert report.deployment.accounts == neot_chain.deployment.accounts


def test_deploy_from_an_external_funded_wallet(neot_chain: DeployedChain, tmp_path: Path) -> None:
    """`--wallet W` path: any funded NEP-6 wallet pays, the treasury it funds deploys."""
    # a cheap KDF keeps the test fast; the format is the same NEP-6 a real wallet uses
    funded = neo_wallet.Wallet(name="funder", scrypt_params=ScryptParameters(n=2, r=1, p=1))
    funder = funded.account_new(label="funder", is_default=True)
    (tmp_path / "funder.json").write_text(json.dumps(funded.to_json("funder password")))
    asyncio.run(neot_chain.client.transfer_gas(committee_account(), funder.address, 400 * GAS))

    loaded = wallet_account(tmp_path / "funder.json", "funder password")
    assert loaded.address == funder.address
    chain_dir = tmp_path / "chain"
    first = asyncio.run(deploy_neot(neot_chain.deployment.rpc_url, chain_dir, loaded, fast_kdf=True))
    assert first.deployed == ["neot_token", "score_anchor", "escrow"]
    assert first.deployment.contracts.token != neot_chain.deployment.contracts.token
    client = ChainClient.from_deployment(Deployment.load(chain_dir))
    assert asyncio.run(client.neot_balance(first.deployment.address("insurer-1"))) == 1_000_000 * 10**8

    second = asyncio.run(deploy_neot(neot_chain.deployment.rpc_url, chain_dir, loaded, fast_kdf=True))
    assert (second.deployed, second.gas_funded, second.neot_funded) == ([], {}, {})

    with pytest.raises(DeploymentError, match="cannot open wallet"):
        wallet_account(tmp_path / "funder.json", "wrong password")


def test_keys_stay_in_owner_only_files(tmp_path: Path) -> None:
    keys = create_keyring(tmp_path, ["treasury", "anchorer"], fast_kdf=True)
    for name in ("wallet.json", "wallet.password"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    secret = keys.account("anchorer").private_key
    assert secret is not None
    assert secret.hex() not in (tmp_path / "wallet.json").read_text()
    assert open_keyring(tmp_path).addresses() == keys.addresses()
    # adding a label keeps the existing keys
    again = create_keyring(tmp_path, ["treasury", "anchorer", "driver-1"], fast_kdf=True)
    assert again.addresses()["anchorer"] == keys.addresses()["anchorer"]
    assert "driver-1" in again


def test_deployment_file_has_no_secrets(neot_chain: DeployedChain) -> None:
    text = (neot_chain.chain_dir / "deployment.json").read_text()
    for label in neot_chain.keys.labels():
        private_key = neot_chain.account(label).private_key
        assert private_key is not None and private_key.hex() not in text
    assert set(json.loads(text)) == {"rpc_url", "network_magic", "contracts", "accounts"}
    loaded = Deployment.load(neot_chain.chain_dir)
    assert loaded.contracts.to_json() == neot_chain.deployment.contracts.to_json()
    assert loaded.script_hash("anchorer") == neot_chain.account("anchorer").script_hash


def test_wrong_or_missing_records_are_deployment_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DeploymentError, match="no deployment"):
        Deployment.load(tmp_path)
    (tmp_path / "deployment.json").write_text('{"rpc_url": "http://x"}')
    with pytest.raises(DeploymentError, match="not a valid deployment"):
        Deployment.load(tmp_path)
    create_keyring(tmp_path, ["treasury"], fast_kdf=True)
    monkeypatch.setenv("NEOT_WALLET_PASSWORD", "not the password")
    with pytest.raises(DeploymentError, match="cannot decrypt"):
        open_keyring(tmp_path)
