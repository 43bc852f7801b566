"""The event runtime on Kafka: typed events published and consumed in the Confluent wire format.

Services use :class:`EventBus`; the rest is what it is built from, and what tools (the
``evp dlq`` command, the event store's outbox relay) use directly.
"""

from evp.messaging.bus import EventBus
from evp.messaging.config import GroupProtocol, MessagingSettings
from evp.messaging.context import handled_event
from evp.messaging.dead_letter import DeadLetter, DeadLettered, Reason
from evp.messaging.dead_letter_queue import DeadLetterQueue, ReplayReport
from evp.messaging.embedded import EmbeddedKafka
from evp.messaging.errors import (
    BrokerError,
    BusStateError,
    DeadLetterNotFound,
    DeliveryFailed,
    DependencyUnavailable,
    HandlerTimedOut,
    IncompatibleSchema,
    InvalidSubscription,
    MessagingError,
    RegistryUnavailable,
    TopicUnavailable,
)
from evp.messaging.message import MessageContext
from evp.messaging.producer import Delivery
from evp.messaging.publisher import Published, Publisher, RawPublisher
from evp.messaging.registry_lookup import RegistrySchemaLookup
from evp.messaging.topics import TopicNames

__all__ = [
    "BrokerError",
    "BusStateError",
    "DeadLetter",
    "DeadLetterNotFound",
    "DeadLetterQueue",
    "DeadLettered",
    "Delivery",
    "DeliveryFailed",
    "DependencyUnavailable",
    "EmbeddedKafka",
    "EventBus",
    "GroupProtocol",
    "HandlerTimedOut",
    "IncompatibleSchema",
    "InvalidSubscription",
    "MessageContext",
    "MessagingError",
    "MessagingSettings",
    "Published",
    "Publisher",
    "RawPublisher",
    "Reason",
    "RegistrySchemaLookup",
    "RegistryUnavailable",
    "ReplayReport",
    "TopicNames",
    "TopicUnavailable",
    "handled_event",
]
