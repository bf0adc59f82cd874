"""The agent process the crash test kills: the real `Agent` over the synthetic adapter, with every
taken sample (after its commit) appended to a trace file. Usage:

    python -m tests.vehicle_agent.crash_agent CONFIG KEY TRACE [--drain]
"""

import json
import os
import sys
from pathlib import Path

from neot.logging import configure_logging
from neot.settings import LogFormat
from protocol import FIELDS, Sample, quantise
from tests.vehicle_agent.synthetic import SyntheticAdapter
from vehicle_agent import Agent, AgentConfig, load_key_file


def main() -> None:
    config_path, key_path, trace_path = map(Path, sys.argv[1:4])
    drain = "--drain" in sys.argv
    configure_logging("WARNING", LogFormat.JSON)
    agent = Agent(
        AgentConfig.load(config_path),
        adapters=[SyntheticAdapter(count=5 if drain else None)],
        key=load_key_file(key_path),
    )
    trace = os.open(trace_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    store = agent.buffer.add

    def traced(sample: Sample) -> None:
        store(sample)  # committed: now it counts as taken
        row = [sample.time_ns, *(quantise(name, getattr(sample, name)) for name in FIELDS)]
        os.write(trace, (json.dumps(row) + "\n").encode())

    agent.sampler._sink = traced
    print("ready", flush=True)
    agent.run(until_drained=drain)


if __name__ == "__main__":
    main()
