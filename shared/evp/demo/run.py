"""``evp demo``: boot the platform as ``evp up`` does, in a fresh data directory, shop, report.

The platform runs in a temporary ``EVP_DATA_DIR`` (its own Postgres, broker, registry and
mail sink), so a demo never meets a running ``evp up`` or an earlier demo. The children get
a short payment timeout and a slow approval that comes after it, so the ``tok_slow``
orders time out and are refunded within the run.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from evp.demo.mix import plan
from evp.demo.report import Report
from evp.demo.scenario import Progress, run_scenario
from evp.up.environment import embedded_environment

__all__ = ["CHILD_ENVIRONMENT", "DemoOptions", "run_demo"]

CHILD_ENVIRONMENT = {
    "ORDERS_PAYMENT_TIMEOUT_S": "3",
    "PAYMENTS_SLOW_APPROVAL_S": "5",
    "PAYMENTS_POLL_INTERVAL_S": "0.5",
}
"""What the demo changes in the services' environment (the rest is ``evp up``'s)."""


@dataclass(frozen=True)
class DemoOptions:
    """``evp demo``'s options."""

    orders: int = 40
    seed: int = 1
    json: Path | None = None
    chaos: str = "inventory"
    timeout: float = 120.0
    schemas: Path = Path("schemas")


def run_demo(options: DemoOptions) -> int:
    """Run the demo; 0 only when every invariant held."""
    # pgserver warns that XDG_RUNTIME_DIR is unset on CI machines; nothing to act on here.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    with tempfile.TemporaryDirectory(prefix="evp-demo-") as data_dir:
        report = asyncio.run(_demo(options, Path(data_dir)))
    print(report.text(), flush=True)
    if options.json is not None:
        report.write(options.json)
        print(f"report written to {options.json}", flush=True)
    return 0 if report.passed else 1


def environment(data_dir: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment the demo's platform is planned and run with: everything embedded."""
    env = embedded_environment(data_dir, base)
    env.update(CHILD_ENVIRONMENT)
    env["EVP_ADMIN_PASSWORD"] = "demo-admin-password"
    return env


async def _demo(options: DemoOptions, data_dir: Path) -> Report:
    from evp.up import Plan, platform

    env = environment(data_dir)
    plan_ = Plan.from_env(env, schemas=options.schemas)
    mix = plan(options.orders, options.seed)
    progress = Progress(mix.size)
    started = time.monotonic()
    print(f"evp demo: booting the platform in {data_dir} (as `evp up` does)", flush=True)
    async with platform(plan_, environ=env, report=lambda line: progress.say(f"  {line}")) as up:
        progress.say(
            f"evp demo: {mix.size} orders, {mix.customers} customers, seed {options.seed}; "
            f"{options.chaos} will be SIGKILLed midway"
        )
        kafka = up.state.kafka or ""
        outcome = await run_scenario(
            up,
            mix,
            seed=options.seed,
            chaos_service=options.chaos,
            timeout=options.timeout,
            dead_letters=lambda: dead_letter_counts(kafka, plan_.topic_prefix),
            progress=progress,
        )
        progress.say("evp demo: stopping the platform")
    return Report.of(outcome, seed=options.seed, duration_s=time.monotonic() - started)


def dead_letter_counts(bootstrap: str, prefix: str = "") -> dict[str, int]:
    """Dead letters per dead-letter topic (``*.dlq``) of the cluster; blocking."""
    from confluent_kafka.admin import AdminClient

    from evp.messaging import MessagingSettings
    from evp.messaging.dead_letter_queue import DeadLetterQueue

    settings = MessagingSettings.from_env({})
    queue = DeadLetterQueue.from_settings(settings, bootstrap_servers=bootstrap)
    topics = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics
    return {
        name: len(queue.letters(name))
        for name in sorted(topics)
        if name.startswith(prefix) and name.endswith(".dlq")
    }
