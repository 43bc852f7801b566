"""The service kit: one small API with which a service is a page of declarations.

A :class:`Service` declares its name, the events it publishes, its handlers (run once per
event id, in a store transaction with what they append), its projections and its HTTP
routes; :meth:`Service.app` is the ASGI app that ``evp serve`` runs. The kit owns start-up
and shutdown order, the outbox relay, health, metrics, problem responses, JSON logs, the
OpenAPI document (:mod:`evp.service.runtime`, :mod:`evp.web`) and the AsyncAPI document
built from the declarations (:mod:`evp.service.asyncapi`, at ``/asyncapi.json``).
"""

from evp.service.asyncapi import service_document
from evp.service.errors import InvalidService, ServiceKitError, ServiceStartError, UnknownService
from evp.service.handler import HandlerContext
from evp.service.runtime import ServiceRuntime
from evp.service.saga_doc import SagaDoc, SagaReplyDoc, SagaStepDoc
from evp.service.service import SERVICES_GROUP, Service, current_runtime, installed_services
from evp.service.settings import ServiceSettings

__all__ = [
    "SERVICES_GROUP",
    "HandlerContext",
    "InvalidService",
    "SagaDoc",
    "SagaReplyDoc",
    "SagaStepDoc",
    "Service",
    "ServiceKitError",
    "ServiceRuntime",
    "ServiceSettings",
    "ServiceStartError",
    "UnknownService",
    "current_runtime",
    "installed_services",
    "service_document",
]
