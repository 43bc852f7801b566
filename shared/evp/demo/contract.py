"""The demo's first half: the contract, offline — lint, codegen, the codec, evolution.

Lint and codegen are the schema tooling's commands; the demo runs them through ``evp`` (as
a developer would) rather than importing the tooling, which the runtime never does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import decimal
import io
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro

from evp.avro import AvroCodec, AvroError, InMemorySchemaLookup
from evp.avro.wire import frame_header
from evp.contract import Catalog, load_catalog
from evp.events import (
    Currency,
    OrderLine,
    OrderPlaced,
    ShippingAddress,
)

__all__ = ["run_contract", "step"]

_REPO = Path.cwd()


def step(title: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any) -> Any:
            print(f"\n== {title} ==", flush=True)
            return function(*args)

        return run

    return decorate


def _evp(*argv: str) -> tuple[int, str, str]:
    """Run an ``evp`` command in this process; its exit code, standard output and error."""
    from evp.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@step("1. Lint the contract in schemas/ (like buf lint)")
def lint_schemas() -> Catalog:
    schemas = _REPO / "schemas"
    catalog = load_catalog(schemas)
    _, out, _ = _evp("schemas", "lint", "--schemas", str(schemas), "--format", "json")
    findings = json.loads(out)
    versions = sum(len(s.versions) for s in catalog.subjects.values())
    print(
        f"{len(catalog.subjects)} subjects, {versions} schema versions, {len(findings)} finding(s)"
    )
    for finding in findings:
        print(f"  {finding['file']}: {finding['path']}: {finding['rule']}: {finding['message']}")
    return catalog


@step("2. Check the generated event library is fresh (evp codegen --check)")
def check_codegen(catalog: Catalog) -> None:
    out_dir = _REPO / "shared" / "evp" / "events"
    _, out, err = _evp("codegen", "--check", "--schemas", str(catalog.root), "--out", str(out_dir))
    stale = [line for line in err.splitlines() if line.endswith("stale; run `evp codegen`")]
    print((out or err).strip().splitlines()[-1])
    print(f"{len(stale)} stale")


@step("3. Register every subject's history, oldest first")
def register(catalog: Catalog) -> InMemorySchemaLookup:
    lookup = InMemorySchemaLookup()
    for version in catalog.iter_versions():
        schema_id = lookup.register(version.subject, version.schema_text)
        if version.subject.startswith("orders-"):
            print(f"  {version.subject} v{version.version} -> schema id {schema_id}")
    return lookup


@step("4. Encode a typed OrderPlaced in the Confluent wire format, and decode it")
def round_trip(lookup: InMemorySchemaLookup) -> None:
    codec = AvroCodec(lookup)
    order = OrderPlaced.new(
        order_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        lines=[
            OrderLine(sku="BOOK-42", quantity=2, unit_price=decimal.Decimal("19.99")),
            OrderLine(sku="MUG-7", quantity=1, unit_price=decimal.Decimal("8.50")),
        ],
        total=decimal.Decimal("48.48"),
        currency=Currency.EUR,
        shipping_address=ShippingAddress(
            recipient="Ada Lovelace",
            street="12 St James's Square",
            city="London",
            postal_code="SW1Y 4JH",
            country_code="GB",
        ),
        source="orders",
    )
    data = codec.encode(order)
    print(f"frame: {len(data)} bytes = magic {data[0]} + schema id {codec.schema_id_of(data)}")
    print(f"       + Avro body {data[5:25].hex()}...")
    decoded = codec.decode(data, OrderPlaced)
    print(f"decoded equals original: {decoded == order}")
    for field in dataclasses.fields(decoded):
        print(f"  {field.name:17} = {getattr(decoded, field.name)!r:.90}")


@step("5. Schema evolution: an OrderPlaced v1 message read as v2")
def evolution(catalog: Catalog, lookup: InMemorySchemaLookup) -> None:
    v1 = catalog.subjects[OrderPlaced.SUBJECT].versions[0]
    schema_id = lookup.id_for(v1.subject, v1.schema_text)
    datum = {
        "envelope": {
            "event_id": str(uuid.uuid4()),
            "event_type": OrderPlaced.FULL_NAME,
            "timestamp": 1_700_000_000_000,
            "version": 1,
            "source": "orders",
            "correlation_id": str(uuid.uuid4()),
            "causation_id": None,
        },
        "order_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "lines": [{"sku": "BOOK-42", "quantity": 1, "unit_price": b"\x07\xcf"}],
        "total": b"\x07\xcf",
        "currency": "EUR",
    }
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(json.loads(v1.schema_text)), datum)
    decoded = AvroCodec(lookup).decode(frame_header(schema_id) + body.getvalue(), OrderPlaced)
    print(f"written with v1 (schema id {schema_id}), read by the v{OrderPlaced.VERSION} class:")
    print(f"  total = {decoded.total!r}, shipping_address = {decoded.shipping_address!r}")


@step("6. Bad bytes get a typed error, never a crash")
def bad_bytes(lookup: InMemorySchemaLookup) -> None:
    codec = AvroCodec(lookup)
    for label, data in (
        ("JSON instead of Avro", b'{"order_id": 1}'),
        ("truncated frame", b"\x00\x00"),
        ("unknown schema id", frame_header(4242) + b"\x02"),
    ):
        try:
            codec.decode(data, OrderPlaced)
        except AvroError as error:
            print(f"  {label:22} -> {type(error).__name__}: {error}")


def run_contract() -> Catalog:
    """Steps 1-6; returns the loaded catalog for the live half."""
    catalog: Catalog = lint_schemas()
    check_codegen(catalog)
    lookup = register(catalog)
    round_trip(lookup)
    evolution(catalog, lookup)
    bad_bytes(lookup)
    return catalog
