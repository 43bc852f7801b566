"""The table ``evp up`` prints once the platform runs: what runs where, under which pids."""

from __future__ import annotations

from evp.up.plan import SERVICES
from evp.up.platform import RunningPlatform

__all__ = ["format_table"]


def format_table(running: RunningPlatform) -> str:
    """One row per part: its name, its address, its pids (``-`` when not ours)."""
    state = running.state
    pids = state.pids
    rows: list[tuple[str, str, str]] = []
    if running.postgres_dir is not None:
        rows.append(("postgres", f"{running.postgres_dir} (embedded)", "-"))
    rows.append(("kafka", state.kafka or "-", _pids(pids.get("broker"))))
    rows.append(("registry", state.registry or "-", _pids(pids.get("registry"))))
    rows.append(("smtp", state.smtp or "-", _pids(pids.get("smtp"))))
    for service in SERVICES:
        addresses = [c.address or "-" for c in running.instances(service)]
        rows.append((service, " ".join(addresses), _pids(pids.get(service))))
    rows.append(("console", state.console or "off", "-"))
    width = max(len(name) for name, _, _ in rows)
    where = max(len(address) for _, address, _ in rows)
    lines = [f"{'PART':{width}}  {'WHERE':{where}}  PIDS"]
    lines += [f"{name:{width}}  {address:{where}}  {pid}" for name, address, pid in rows]
    admin = running.admin
    lines.append(f"admin: {admin.email} (password from {admin.source})")
    if state.topic_prefix:
        lines.append(f"topic prefix: {state.topic_prefix}")
    return "\n".join(lines)


def _pids(pids: list[int] | None) -> str:
    return " ".join(str(p) for p in pids) if pids else "-"
