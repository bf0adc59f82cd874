"""The independent verifier loads `protocol` and httpx, and nothing of the server or the chain SDK."""

import json
import subprocess
import sys

PROBE = """
import json, sys
import neot._verifier
ours = sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in
        {'neot', 'protocol', 'models', 'scoring_service', 'insurer_api', 'chain', 'vehicle_agent', 'migrations'}})
third = sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in
        {'neo3', 'boa3', 'sqlalchemy', 'fastapi', 'alembic', 'sklearn', 'numpy', 'aiohttp', 'pydantic', 'typer'}})
print(json.dumps({"ours": ours, "third": third, "neot": sorted(m for m in sys.modules if m.startswith('neot'))}))
"""


def test_verifier_imports_only_protocol_and_httpx() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True, text=True).stdout
    loaded = json.loads(out)
    assert loaded["ours"] == ["neot", "protocol"]
    assert loaded["neot"] == ["neot", "neot._verifier"]  # the package shell (a version string) and itself
    assert loaded["third"] == []
