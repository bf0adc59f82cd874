"""A score worker's storing loop as its own process, for the kill and sharing tests:
`python storer_process.py DATABASE_URL NATS_URL STREAM SUBJECTS INDEX COUNT IDLE_S`.
Stores the owned shards until nothing came for IDLE_S seconds, then prints the devices whose
batches it handled and how many batches (redeliveries included)."""

import asyncio
import sys
import time

from models import make_engine, make_session_factory
from scoring_service.stream import StreamConfig, StreamStorer, shards_owned


async def main(argv: list[str]) -> None:
    database_url, nats_url, stream, subjects, index, count, idle_s = argv
    config = StreamConfig(url=nats_url, name=stream, subject_prefix=subjects, shards=4, ack_wait_s=2.0)
    engine = make_engine(database_url)
    owned = shards_owned(config, index=int(index), count=int(count))
    storer = StreamStorer(make_session_factory(engine), config, shards=owned, fetch=4)
    await storer.start()
    last = time.monotonic()
    while time.monotonic() - last < float(idle_s):
        if await storer.drain(wait_s=0.2):
            last = time.monotonic()
            print(f"handled {storer.stored}", flush=True)
    await storer.close()
    engine.dispose()
    print(f"devices {' '.join(map(str, sorted(storer.devices)))}", flush=True)
    print(f"done {storer.stored}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:8]))
