"""Produce one stock alert to the alerts topic, as the pipeline's stream would.

.venv/bin/python dashboard/e2e/produce_alert.py --bootstrap H:P --topic T --alert '{...}'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from backend.events.kafka import encode, producer


async def produce(bootstrap: str, topic: str, alert: dict[str, object]) -> None:
    client = producer(bootstrap)
    await client.start()
    try:
        key = f"{alert.get('item_id')}|{alert.get('depot_id')}".encode()
        await client.send_and_wait(topic, encode(alert), key=key)
    finally:
        await client.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--alert", required=True, help="the alert as JSON")
    args = parser.parse_args()
    asyncio.run(produce(args.bootstrap, args.topic, json.loads(args.alert)))


if __name__ == "__main__":
    main()
