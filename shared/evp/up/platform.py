"""``platform(plan)``: boot the whole platform in dependency order, keep it running, stop it.

The order, each step only once the one before is healthy: Postgres (one database per
service and one for the registry), Kafka, the registry, the schemas registered, the SMTP
sink, the users service, the other five services, the seeded catalogue. A part the plan
says is configured is checked (it must answer) instead of started. Leaving the context
stops everything in reverse order: services first, Postgres last.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from evp.console import Platform, ProcessInfo, console_app, serve_console
from evp.credentials import mask_password
from evp.eventstore.database import database_url_variable
from evp.messaging.config import EMBEDDED_FETCH_WAIT_MS, MessagingSettings
from evp.postgres import EmbeddedPostgres, ensure_database
from evp.postgres.errors import PostgresError
from evp.settings import registry_address
from evp.up.child import Child, ChildSpec
from evp.up.errors import ChildFailed, StepFailed, Unreachable
from evp.up.plan import REGISTRY_DATABASE, SERVICES, Plan
from evp.up.probes import (
    kafka_answers,
    postgres_accepts,
    registry_answers,
    smtp_accepts,
    until_healthy,
)
from evp.up.schemas import register_schemas
from evp.up.seed import Admin, admin_account, seed_catalogue
from evp.up.specs import broker_spec, mailsink_spec, registry_spec, service_spec
from evp.up.state import PlatformState, StateFile
from evp.up.supervisor import Backoff, Supervisor

__all__ = ["RunningPlatform", "platform"]

_CONFIGURED_TIMEOUT = 15.0
"""Seconds a configured part (KAFKA_BOOTSTRAP_SERVERS, ...) gets to answer at boot."""


class RunningPlatform:
    """The booted platform: where everything is, and the supervisor keeping it running."""

    def __init__(
        self,
        plan: Plan,
        supervisor: Supervisor,
        state_files: list[StateFile],
        admin: Admin,
        postgres_dir: Path | None,
    ) -> None:
        self.plan = plan
        self.supervisor = supervisor
        self.state = PlatformState(topic_prefix=plan.topic_prefix)
        self.state.admin = {"email": admin.email, "password": admin.password}
        self.admin = admin
        self.postgres_dir = postgres_dir
        self.seeded: list[str] = []
        self._state_files = state_files

    def refresh(self) -> None:
        """Bring the state up to date with the children and rewrite the files if it changed."""
        self.state.pids = self.supervisor.pids()
        self.state.services = {}
        for child in self.supervisor.children:
            if child.spec.group in SERVICES and child.address:
                self.state.services.setdefault(child.spec.group, child.address)
        document = self.state.document()
        for state_file in self._state_files:
            state_file.write(document)

    def instances(self, group: str) -> list[Child]:
        """The children of ``group`` (``inventory``: every inventory instance)."""
        return [child for child in self.supervisor.children if child.spec.group == group]

    def processes(self) -> list[ProcessInfo]:
        """Every supervised child as the console's overview shows it."""
        return [
            ProcessInfo(
                name=child.name,
                group=child.spec.group,
                pid=child.pid,
                address=child.address,
                restarts=child.restarts,
                log=child.spec.log,
            )
            for child in self.supervisor.children
        ]


@asynccontextmanager
async def platform(
    plan: Plan,
    *,
    environ: Mapping[str, str] | None = None,
    state_files: list[Path] | None = None,
    report: Callable[[str], None] = print,
    echo: Callable[[str], None] | None = None,
    grace: float = 30.0,
    ready_timeout: float = 120.0,
    backoff: Backoff | None = None,
    seed: bool = True,
    hurry: asyncio.Event | None = None,
) -> AsyncIterator[RunningPlatform]:
    """Boot the platform ``plan`` describes; stop it all when the block ends.

    Setting ``hurry`` makes the stop kill what has not exited yet instead of waiting
    out ``grace`` (the CLI sets it on a second Ctrl-C).
    """
    env = dict(os.environ if environ is None else environ)
    admin = admin_account(plan.data_dir, plan.admin_email, env)
    holder: list[RunningPlatform] = []
    supervisor = Supervisor(
        report=report,
        on_change=lambda: holder[0].refresh() if holder else None,
        backoff=backoff,
        grace=grace,
        ready_timeout=ready_timeout,
        echo=echo,
        hurry=hurry,
    )
    boot = _Boot(plan, env, supervisor, report)
    async with AsyncExitStack() as stack:
        databases = await boot.postgres(stack)
        running = RunningPlatform(
            plan,
            supervisor,
            [StateFile(path) for path in state_files or []],
            admin,
            plan.postgres_dir if plan.embedded_databases else None,
        )
        running.state.databases = {k: v for k, v in databases.items() if k in SERVICES}
        holder.append(running)
        stack.push_async_callback(supervisor.stop)
        running.state.kafka = kafka = await boot.kafka()
        running.state.registry = registry = await boot.registry(
            databases.get(REGISTRY_DATABASE, "")
        )
        await boot.schemas(registry)
        running.state.smtp = smtp = await boot.smtp()
        running.refresh()
        await boot.services(admin, boot.service_environment(kafka, registry, smtp, databases))
        if seed:
            added = await seed_catalogue(
                running.state.services["users"], running.state.services["inventory"], admin
            )
            running.seeded = added
            report(f"seed: {len(added)} product(s) added" if added else "seed: catalogue present")
        if plan.console_port is not None:
            # Entered after the supervisor's stop: the console stops first.
            running.state.console = await stack.enter_async_context(boot.console(running))
            report(f"console: {running.state.console}")
        running.refresh()
        yield running


class _Boot:
    """The boot's steps, in order; each returns once its part is healthy."""

    def __init__(
        self,
        plan: Plan,
        env: Mapping[str, str],
        supervisor: Supervisor,
        report: Callable[[str], None],
    ) -> None:
        self.plan = plan
        self.env = env
        self.supervisor = supervisor
        self.report = report
        self.logs = plan.data_dir / "logs"

    async def postgres(self, stack: AsyncExitStack) -> dict[str, str]:
        """Start the embedded Postgres if a database is not configured; every database's URL."""
        plan = self.plan
        urls = {name: url for name, url in plan.databases.items() if url is not None}
        if plan.registry_database_url is not None:
            urls[REGISTRY_DATABASE] = plan.registry_database_url
        for name, url in urls.items():
            await _healthy(
                f"database of {name}",
                functools.partial(postgres_accepts, url),
                fix=f"check {database_url_variable(name)}",
            )
        if not plan.embedded_databases:
            return urls
        server = EmbeddedPostgres(plan.postgres_dir)
        try:
            admin_url = await asyncio.to_thread(server.start)
        except PostgresError as error:
            raise StepFailed("postgres", str(error)) from error

        async def stop() -> None:
            self.report("stopping postgres")
            await asyncio.to_thread(server.stop)

        stack.push_async_callback(stop)
        for name in plan.embedded_databases:
            urls[name] = await ensure_database(admin_url, name.replace("-", "_"))
        first = urls[plan.embedded_databases[0]]
        await _healthy("postgres", functools.partial(postgres_accepts, first))
        self.report(f"postgres: {plan.postgres_dir} ({', '.join(plan.embedded_databases)})")
        return urls

    async def kafka(self) -> str:
        """The bootstrap address: the configured cluster, or ``evp broker`` started."""
        configured = self.plan.kafka
        if configured is not None:
            properties = dict(MessagingSettings.from_env(self.env).client_properties)
            await _healthy(
                "kafka",
                functools.partial(kafka_answers, configured, properties=properties),
                fix="check KAFKA_BOOTSTRAP_SERVERS, or unset it to start the embedded broker",
            )
            self.report(f"kafka: using {configured}")
            return configured
        (broker,) = await self._start([broker_spec(self.env, self.logs)])
        self.report(f"kafka: evp broker at {broker.address} (pid {broker.pid}, in memory only)")
        return broker.address or ""

    async def registry(self, database_url: str) -> str:
        """The registry's URL: the configured one, or ``evp registry serve`` started."""
        configured = self.plan.registry_url
        if configured is not None:
            _, credentials = registry_address(self.env)
            await _healthy(
                "registry",
                functools.partial(registry_answers, configured, credentials=credentials),
                fix="check SCHEMA_REGISTRY_URL, or unset it to start `evp registry serve`",
            )
            self.report(f"registry: using {configured}")
            return configured
        spec = registry_spec(self.env, self.logs, host=self.plan.host, database_url=database_url)
        (registry,) = await self._start([spec])
        self.report(f"registry: evp registry serve at {registry.address} (pid {registry.pid})")
        return registry.address or ""

    async def schemas(self, registry: str) -> None:
        """Register ``schemas/`` (nothing to do on a second run)."""
        credentials = registry_address(self.env)[1] if self.plan.registry_url else None
        changes = await asyncio.to_thread(
            register_schemas, self.plan.schemas, registry, credentials=credentials
        )
        self.report(
            f"schemas: {changes} change(s) registered" if changes else "schemas: all registered"
        )

    async def smtp(self) -> str:
        """``host:port`` of the SMTP server: the configured one, or the mail sink started."""
        configured = self.plan.smtp
        if configured is not None:
            await _healthy(
                "smtp",
                functools.partial(smtp_accepts, configured),
                fix="check NOTIFICATIONS_SMTP_HOST and _PORT, or unset them for the mail sink",
            )
            self.report(f"smtp: using {configured}")
            return configured
        maildir = self.plan.data_dir / "smtp"
        spec = mailsink_spec(self.env, self.logs, host=self.plan.host, maildir=maildir.resolve())
        (sink,) = await self._start([spec])
        self.report(f"smtp: mail sink at {sink.address} (pid {sink.pid}), mail in {maildir}")
        return sink.address or ""

    def service_environment(
        self, kafka: str, registry: str, smtp: str, databases: Mapping[str, str]
    ) -> dict[str, str]:
        """What every service instance reads: where the infrastructure is."""
        base = dict(self.env)
        base.update(
            {
                "KAFKA_BOOTSTRAP_SERVERS": kafka,
                "SCHEMA_REGISTRY_URL": registry,
                "EVP_TOPIC_PREFIX": self.plan.topic_prefix,
                "EVP_DATA_DIR": str(self.plan.data_dir),
                **{database_url_variable(s): databases[s] for s in SERVICES},
            }
        )
        if self.plan.kafka is None:
            # `evp broker` is the embedded broker: KIP-848 groups join in milliseconds there.
            base.setdefault("EVP_KAFKA_GROUP_PROTOCOL", "consumer")
            # It also holds every fetch for its whole wait, even once data has arrived.
            base.setdefault("EVP_KAFKA_FETCH_WAIT_MS", str(EMBEDDED_FETCH_WAIT_MS))
        if self.plan.smtp is None:
            host, _, port = smtp.rpartition(":")
            base["NOTIFICATIONS_SMTP_HOST"] = host
            base["NOTIFICATIONS_SMTP_PORT"] = port
            base["NOTIFICATIONS_SMTP_STARTTLS"] = "false"
        return base

    async def services(self, admin: Admin, base: Mapping[str, str]) -> None:
        """Users first (it creates the admin and serves the JWKS), then the other five."""
        plan = self.plan
        users_env = {
            **base,
            "USERS_ADMIN_EMAIL": admin.email,
            "USERS_ADMIN_PASSWORD": admin.password,
        }
        users = await self._start(
            [service_spec("users", n, users_env, self.logs) for n in _instances(plan, "users")]
        )
        for child in users:
            self.report(f"{child.name}: {child.address} (pid {child.pid})")
        others_env = {**base, "EVP_JWKS_URL": f"{users[0].address}/.well-known/jwks.json"}
        specs = [
            service_spec(service, n, others_env, self.logs)
            for service in SERVICES[1:]
            for n in _instances(plan, service)
        ]
        for child in await self._start(specs):
            self.report(f"{child.name}: {child.address} (pid {child.pid})")

    @asynccontextmanager
    async def console(self, running: RunningPlatform) -> AsyncIterator[str]:
        """Serve the console on the loopback interface; its URL.

        Loopback only, whatever ``EVP_HOST`` says: the console acts as the admin.
        """
        plan, state = self.plan, running.state
        where = Platform(
            services=dict(state.services),
            registry=state.registry or "",
            kafka=state.kafka or "",
            topic_prefix=plan.topic_prefix,
            smtp=state.smtp,
            admin_email=running.admin.email,
            admin_password=running.admin.password,
            schemas=plan.schemas,
            maildir=(plan.data_dir / "smtp").resolve() if plan.smtp is None else None,
            registry_credentials=registry_address(self.env)[1] if plan.registry_url else None,
            databases={name: mask_password(url) for name, url in state.databases.items()},
        )
        app = console_app(where, running, messaging=MessagingSettings.from_env(self.env))
        port = plan.console_port or 0
        try:
            served = serve_console(app, port=port)
            url = await served.__aenter__()
        except OSError as error:
            if port == 0:
                raise StepFailed("console", str(error)) from error
            self.report(f"console: port {port} is taken ({error.strerror}); using a free one")
            served = serve_console(app, port=0)
            url = await served.__aenter__()
        except RuntimeError as error:
            raise StepFailed("console", str(error), fix=f"see {self.logs}") from error
        try:
            yield url
        finally:
            self.report("stopping console")
            await served.__aexit__(None, None, None)

    async def _start(self, specs: list[ChildSpec]) -> list[Child]:
        try:
            return await self.supervisor.start(specs)
        except ChildFailed as error:
            raise StepFailed(error.name, str(error), fix=f"see its log in {self.logs}") from error


def _instances(plan: Plan, service: str) -> range:
    return range(1, plan.instances(service) + 1)


async def _healthy(
    step: str, probe: Callable[[], Awaitable[None]], *, fix: str | None = None
) -> None:
    try:
        await until_healthy(probe, timeout=_CONFIGURED_TIMEOUT)
    except Unreachable as error:
        raise StepFailed(step, str(error), fix=fix) from error
