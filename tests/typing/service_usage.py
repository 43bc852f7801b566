"""Usage of the service kit that must type-check: declarations, handlers, routes, tests."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI

from evp.events import OrderPlaced, PaymentProcessed
from evp.service import HandlerContext, Service, ServiceRuntime, current_runtime
from evp.service.inprocess import RunningService, running_service
from evp.service.settings import ServiceSettings
from evp.web import CurrentUser

service = Service("payments", publishes=(PaymentProcessed,))
router = APIRouter()
Runtime = Annotated[ServiceRuntime, Depends(current_runtime)]


@service.handles(OrderPlaced, retries=3, timeout=10.0)
async def take_payment(event: OrderPlaced, context: HandlerContext) -> None:
    """A handler keeps its own signature under the declaration, and appends in its claim."""
    version: int = await context.store.append(f"payment-{event.order_id}", [], expected_version=0)
    assert version == 0
    assert context.message.attempt >= 1


@router.get("/payments/{payment_id}")
async def get_payment(payment_id: uuid.UUID, user: CurrentUser, runtime: Runtime) -> dict[str, str]:
    """A route reaches the running service and the caller's typed claims."""
    events = await runtime.store.load(f"payment-{payment_id}")
    return {"user": str(user.user_id), "role": user.role.value, "events": str(len(events))}


@service.on_startup
async def seed(runtime: ServiceRuntime) -> None:
    """A start-up hook gets the running parts."""
    runtime.state["seeded"] = True


service.include(router)


def build(settings: ServiceSettings) -> FastAPI:
    """The app ``evp serve`` runs."""
    return service.app(settings)


async def in_a_test(settings: ServiceSettings) -> int:
    """A test runs the service in-process and talks HTTP to it."""
    running: RunningService
    async with running_service(service, settings) as running:
        response = await running.http.get("/health/ready")
        await running.wait_for(lambda: True)
        return response.status_code
