"""``evp broker``: run the embedded Kafka-protocol broker until stopped, printing its address."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``evp broker`` to the parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "broker",
        help="run the embedded Kafka broker (for development and tests)",
        description=(
            "Start librdkafka's in-memory mock cluster and print its bootstrap address on "
            "stdout; run until interrupted. Point KAFKA_BOOTSTRAP_SERVERS at it. Data lives "
            "in memory only (about 5 MiB kept per partition); topics are created on first "
            "use with 4 partitions."
        ),
    )
    parser.add_argument(
        "--brokers", type=int, default=1, metavar="N", help="number of brokers (default 1)"
    )
    parser.add_argument(
        "--port",
        type=int,
        metavar="P",
        help="also accept clients on this port (default: the brokers' random ports only)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from evp.messaging.embedded import EmbeddedKafka

    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with EmbeddedKafka(brokers=args.brokers, port=args.port) as kafka:
        print(kafka.bootstrap_servers, flush=True)
        print(
            f"embedded broker running ({args.brokers} broker(s)); "
            f"export KAFKA_BOOTSTRAP_SERVERS={kafka.bootstrap_servers} "
            "EVP_KAFKA_GROUP_PROTOCOL=consumer; Ctrl-C stops it and drops its data",
            file=sys.stderr,
            flush=True,
        )
        while not stopped.wait(0.5):
            pass
    return 0
