"""The codec section: our generated classes against raw fastavro and confluent's serde.

Every contender encodes and decodes the same OrderPlaced (three lines, a shipping address,
Decimal prices), timed in this process:

* ``evp``: :class:`~evp.avro.AvroCodec` with the generated class (conversions in
  generated code, fastavro on the schema stripped of logical types);
* ``fastavro``: raw ``schemaless_writer``/``schemaless_reader`` on the logical dict with
  the full logical-type schema (fastavro converts Decimal, datetime and UUID itself);
* ``confluent``: confluent-kafka's ``AvroSerializer``/``AvroDeserializer`` over its mock
  registry, with the ``to_dict``/``from_dict`` a user of it would write.

Before timing, the three must write byte-identical Avro bodies and read back what they
wrote; otherwise the run fails, since comparing the speed of different outputs is moot.
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Callable
from typing import Any

import fastavro
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from evp.avro import AvroCodec, InMemorySchemaLookup
from evp.avro.wire import HEADER_SIZE
from evp.bench.errors import Disagreement
from evp.bench.harness import Budget, Row, throughput
from evp.events.common import Currency, Envelope
from evp.events.orders import OrderLine, OrderPlaced, ShippingAddress
from evp.testing.samples import reference_order

__all__ = [
    "METRICS",
    "SECTION",
    "TARGETS",
    "Contender",
    "check_agreement",
    "contenders",
    "order_from_dict",
    "order_to_dict",
    "run",
    "sample_order",
]

SECTION = "codec"
METRICS = ("encode", "decode", "round trip")
UNIT = "records/s"
# Baseline -> (target, stretch) of our round-trip ratio against it, from the issue.
TARGETS: dict[str, tuple[float, float | None]] = {"fastavro": (1.0, 1.2), "confluent": (2.0, None)}


@dataclasses.dataclass(frozen=True, slots=True)
class Contender:
    """One way to turn ``sample`` into a frame or body and back."""

    name: str
    sample: Any
    encode: Callable[[Any], bytes]
    decode: Callable[[bytes], Any]
    header_size: int  # bytes before the Avro body (the wire-format frame header)


def run(budget: Budget) -> list[Row]:
    """Encode, decode and round-trip rates of every contender, and our ratios to each."""
    field = contenders(sample_order())
    check_agreement(field)
    rates = throughput(_workloads(field), budget)
    ours, *baselines = field

    def rate(contender: Contender, metric: str) -> float:
        return rates[f"{contender.name} {metric}"]

    rows = [Row(SECTION, b.name, m, rate(b, m), UNIT) for b in baselines for m in METRICS]
    for baseline in baselines:
        target, stretch = TARGETS[baseline.name]
        for metric in METRICS:
            goal = metric == "round trip"
            rows.append(
                Row(
                    SECTION,
                    ours.name,
                    metric,
                    rate(ours, metric),
                    UNIT,
                    baseline=baseline.name,
                    ratio=rate(ours, metric) / rate(baseline, metric),
                    target=target if goal else None,
                    stretch=stretch if goal else None,
                )
            )
    return rows


def _workloads(field: list[Contender]) -> dict[str, Callable[[], object]]:
    workloads: dict[str, Callable[[], object]] = {}
    for contender in field:
        workloads.update(_operations(contender))
    return workloads


def _operations(contender: Contender) -> dict[str, Callable[[], object]]:
    """The three timed operations of one contender, each a call with nothing to look up."""
    encode, decode, sample = contender.encode, contender.decode, contender.sample
    frame = encode(sample)
    return {
        f"{contender.name} encode": lambda: encode(sample),
        f"{contender.name} decode": lambda: decode(frame),
        f"{contender.name} round trip": lambda: decode(encode(sample)),
    }


def sample_order() -> OrderPlaced:
    """The benchmark event: :func:`evp.testing.samples.reference_order`, fixed on every run."""
    return reference_order()


def contenders(order: OrderPlaced) -> list[Contender]:
    """Ours first, then the baselines, each ready to encode its form of ``order``."""
    return [_evp(order), _fastavro(order), _confluent(order)]


def _evp(order: OrderPlaced) -> Contender:
    lookup = InMemorySchemaLookup()
    lookup.register(OrderPlaced.SUBJECT, OrderPlaced.AVRO_SCHEMA)
    codec = AvroCodec(lookup)
    codec.prepare(OrderPlaced)

    def decode(data: bytes) -> OrderPlaced:
        return codec.decode(data, OrderPlaced)

    return Contender("evp", order, codec.encode, decode, HEADER_SIZE)


def _fastavro(order: OrderPlaced) -> Contender:
    schema = fastavro.parse_schema(json.loads(OrderPlaced.AVRO_SCHEMA))

    def encode(datum: dict[str, Any]) -> bytes:
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, schema, datum)
        return buffer.getvalue()

    def decode(data: bytes) -> Any:
        return fastavro.schemaless_reader(io.BytesIO(data), schema)

    return Contender("fastavro", order_to_dict(order), encode, decode, 0)


def _confluent(order: OrderPlaced) -> Contender:
    client = SchemaRegistryClient.new_client({"url": "mock://evp-bench"})
    context = SerializationContext(OrderPlaced.TOPIC, MessageField.VALUE)
    serializer = AvroSerializer(client, OrderPlaced.AVRO_SCHEMA, to_dict=order_to_dict)
    deserializer = AvroDeserializer(client, OrderPlaced.AVRO_SCHEMA, from_dict=order_from_dict)

    def encode(value: OrderPlaced) -> bytes:
        data: bytes = serializer(value, context)
        return data

    def decode(data: bytes) -> OrderPlaced:
        value: OrderPlaced = deserializer(data, context)
        return value

    return Contender("confluent", order, encode, decode, HEADER_SIZE)


def order_to_dict(order: OrderPlaced, _context: object = None) -> dict[str, Any]:
    """``order`` as the logical dict fastavro writes (confluent's ``to_dict``)."""
    envelope = order.envelope
    address = order.shipping_address
    return {
        "envelope": {
            "event_id": envelope.event_id,
            "event_type": envelope.event_type,
            "timestamp": envelope.timestamp,
            "version": envelope.version,
            "source": envelope.source,
            "correlation_id": envelope.correlation_id,
            "causation_id": envelope.causation_id,
        },
        "order_id": order.order_id,
        "user_id": order.user_id,
        "lines": [
            {"sku": line.sku, "quantity": line.quantity, "unit_price": line.unit_price}
            for line in order.lines
        ],
        "total": order.total,
        "currency": order.currency.value,
        "shipping_address": None
        if address is None
        else {
            "recipient": address.recipient,
            "street": address.street,
            "city": address.city,
            "postal_code": address.postal_code,
            "country_code": address.country_code,
        },
    }


def order_from_dict(data: dict[str, Any], _context: object = None) -> OrderPlaced:
    """The order a logical dict read by fastavro describes (confluent's ``from_dict``)."""
    address = data["shipping_address"]
    return OrderPlaced(
        envelope=Envelope(**data["envelope"]),
        order_id=data["order_id"],
        user_id=data["user_id"],
        lines=[OrderLine(**line) for line in data["lines"]],
        total=data["total"],
        currency=Currency(data["currency"]),
        shipping_address=None if address is None else ShippingAddress(**address),
    )


def check_agreement(field: list[Contender]) -> None:
    """Raise :class:`Disagreement` unless all write the same body and read back their input."""
    reference = field[0]
    expected = reference.encode(reference.sample)[reference.header_size :]
    for contender in field:
        frame = contender.encode(contender.sample)
        body = frame[contender.header_size :]
        if body != expected:
            raise Disagreement(
                f"Avro bodies differ: {body.hex()} != {expected.hex()}",
                section=SECTION,
                case=contender.name,
                baseline=reference.name,
            )
        if contender.decode(frame) != contender.sample:
            raise Disagreement(
                "does not read back what it wrote", section=SECTION, case=contender.name
            )
