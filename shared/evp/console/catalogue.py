"""The platform's event catalogue, and its AsyncAPI document, for the console.

Both are read off what cannot drift: the contract in ``schemas/`` (every event's topic,
key, level and full history) and the services' own AsyncAPI documents, which the kit
builds from their declarations (:mod:`evp.service.asyncapi`): who publishes an event, who
consumes it in which group, which saga step sends or awaits it. The registry's view (the
levels it enforces, the versions it holds) is passed in, so this module does no I/O but
importing the installed services.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from evp.contract import Catalog, Subject, SubjectVersion
from evp.messaging.topics import TopicNames
from evp.service import installed_services, service_document
from evp.service.asyncapi import ASYNCAPI_VERSION, MESSAGE_CONTENT_TYPE, kafka_servers

__all__ = ["build_catalogue", "platform_document", "service_documents"]

Document = dict[str, Any]
"""An AsyncAPI 3.0 document as plain JSON values."""


def service_documents(
    names: Iterable[str] | None = None, *, topics: TopicNames, server: str | None = None
) -> dict[str, Document]:
    """The AsyncAPI document of each installed service called ``names`` (all when ``None``).

    Services are found as ``evp serve`` finds them (the ``evp.services`` entry points);
    importing one only declares it, nothing starts.
    """
    return {
        name: service_document(service, topics=topics, server=server)
        for name, service in installed_services(names).items()
    }


def build_catalogue(
    catalog: Catalog,
    documents: Mapping[str, Document],
    *,
    levels: Mapping[str, str] | None = None,
    registered: Mapping[str, Sequence[int]] | None = None,
) -> dict[str, Any]:
    """Every event of ``catalog`` with its versions, producers, consumers and saga roles.

    ``documents`` are the services' AsyncAPI documents by service name; ``levels`` the
    compatibility level the registry enforces per subject (the catalog's where absent);
    ``registered`` the versions the registry holds per subject (``None``: not asked, so
    each version's ``registered`` is ``None``).
    """
    uses = _Uses(documents)
    events = [
        _event(subject, uses, levels or {}, registered)
        for _, subject in sorted(catalog.subjects.items())
    ]
    topics = [
        {
            "name": topic,
            "doc": doc,
            "address": uses.addresses.get(topic),
            "events": [e["name"] for e in events if e["topic"] == topic],
        }
        for topic, doc in sorted(catalog.topics.items())
    ]
    return {"events": events, "topics": topics, "services": uses.services()}


def platform_document(
    documents: Mapping[str, Document],
    *,
    title: str = "evp shop",
    version: str = "0.1.0",
    servers: Mapping[str, str] | None = None,
) -> Document:
    """One AsyncAPI 3.0 document of the whole platform, merging the services' documents.

    Channels with one address are one channel holding every service's messages on it;
    operation ids are prefixed with their service (``payments.receivePaymentRequested``)
    and say which service they belong to (``x-evp-service``); sagas name their service.
    ``servers`` maps a server name to a Kafka bootstrap list.
    """
    channels: dict[str, dict[str, Any]] = {}
    at_address: dict[str, str] = {}
    operations: dict[str, dict[str, Any]] = {}
    sagas: list[dict[str, Any]] = []
    for service, document in sorted(documents.items()):
        renamed: dict[str, str] = {}
        for channel_id, channel in document.get("channels", {}).items():
            target = at_address.get(channel["address"])
            if target is None:
                target = _free(channel_id, channels)
                channels[target] = {**copy.deepcopy(channel), "messages": {}}
                at_address[channel["address"]] = target
            for name, message in channel.get("messages", {}).items():
                channels[target]["messages"].setdefault(name, copy.deepcopy(message))
            renamed[channel_id] = target
        for operation_id, operation in document.get("operations", {}).items():
            merged = copy.deepcopy(operation)
            merged["channel"] = {"$ref": _rechannel(operation["channel"]["$ref"], renamed)}
            merged["messages"] = [
                {"$ref": _rechannel(m["$ref"], renamed)} for m in operation.get("messages", [])
            ]
            merged["x-evp-service"] = service
            operations[f"{service}.{operation_id}"] = merged
        sagas.extend({"service": service, **saga} for saga in document.get("x-evp-sagas", []))
    names = sorted(documents)
    merged_document: Document = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": title,
            "version": version,
            "description": f"The events of the platform's services: {', '.join(names)}.",
        },
        "defaultContentType": MESSAGE_CONTENT_TYPE,
    }
    if servers:
        merged_document["servers"] = {
            key: server
            for name, bootstrap in servers.items()
            for key, server in kafka_servers(bootstrap, name=name).items()
        }
    merged_document["channels"] = channels
    merged_document["operations"] = operations
    merged_document["x-evp-services"] = [
        {
            "name": name,
            "version": documents[name]["info"]["version"],
            "description": documents[name]["info"].get("description", ""),
        }
        for name in names
    ]
    if sagas:
        merged_document["x-evp-sagas"] = sagas
    return merged_document


# -- who uses each event -------------------------------------------------------------------


class _Uses:
    """The services' documents read per subject: producers, consumers, saga roles."""

    def __init__(self, documents: Mapping[str, Document]) -> None:
        self.producers: dict[str, list[str]] = {}
        self.consumers: dict[str, list[dict[str, Any]]] = {}
        self.saga_steps: dict[str, list[dict[str, Any]]] = {}
        self.addresses: dict[str, str] = {}
        self._sent: dict[str, set[str]] = {}
        self._received: dict[str, set[str]] = {}
        self._documents = documents
        for service, document in sorted(documents.items()):
            self._read(service, document)

    def _read(self, service: str, document: Document) -> None:
        for channel in document.get("channels", {}).values():
            self.addresses.setdefault(channel.get("x-evp-topic", ""), channel["address"])
        for operation in document.get("operations", {}).values():
            for ref in operation.get("messages", []):
                message = _resolve(document, ref["$ref"])
                subject, event = message["x-evp-subject"], message["name"]
                if operation["action"] == "send":
                    _add(self.producers, subject, service)
                    self._sent.setdefault(service, set()).add(event)
                    continue
                self._received.setdefault(service, set()).add(event)
                consumer = {"service": service, "group": operation.get("x-evp-group")}
                if "x-evp-projection" in operation:
                    consumer["projection"] = operation["x-evp-projection"]
                else:
                    consumer["handler"] = operation.get("x-evp-handler")
                _add(self.consumers, subject, consumer)
        for saga in document.get("x-evp-sagas", []):
            for full_name, role in _saga_roles(saga):
                self.saga_steps.setdefault(full_name, []).append({"service": service, **role})

    def services(self) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "version": document["info"]["version"],
                "description": document["info"].get("description", ""),
                "sends": sorted(self._sent.get(name, ())),
                "receives": sorted(self._received.get(name, ())),
                "sagas": [saga["name"] for saga in document.get("x-evp-sagas", [])],
            }
            for name, document in sorted(self._documents.items())
        ]


def _saga_roles(saga: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each event a saga names, with the part it plays (the step ``None`` for the saga's own)."""
    name = saga["name"]
    yield saga["startsWith"], {"saga": name, "step": None, "role": "starts saga"}
    for step in saga.get("steps", []):
        yield step["startedBy"], {"saga": name, "step": step["name"], "role": "starts"}
        for reply in step.get("waitsFor", []):
            role = {"saga": name, "step": step["name"], "role": "reply"}
            yield reply["event"], {**role, "outcome": reply["outcome"]}
        if step.get("compensation"):
            yield step["compensation"], {"saga": name, "step": step["name"], "role": "compensation"}
    for event in saga.get("endsWith", []):
        yield event, {"saga": name, "step": None, "role": "ends saga"}
    for reply in saga.get("afterEnd", []):
        role = {"saga": name, "step": None, "role": "after end"}
        yield reply["event"], {**role, "outcome": reply["outcome"]}


def _add(index: dict[str, list[Any]], key: str, value: Any) -> None:
    found = index.setdefault(key, [])
    if value not in found:
        found.append(value)


# -- one event -----------------------------------------------------------------------------


def _event(
    subject: Subject,
    uses: _Uses,
    levels: Mapping[str, str],
    registered: Mapping[str, Sequence[int]] | None,
) -> dict[str, Any]:
    held = None if registered is None else set(registered.get(subject.name, ()))
    versions = []
    for index, version in enumerate(subject.versions):
        versions.append(
            {
                "version": version.version,
                "schema": version.resolved,
                "fields": _fields(version.resolved),
                "diff": None if index == 0 else _diff(subject.versions[index - 1], version),
                "registered": None if held is None else version.version in held,
            }
        )
    doc = subject.latest.resolved.get("doc")
    return {
        "name": subject.full_name.rpartition(".")[2],
        "full_name": subject.full_name,
        "topic": subject.topic,
        "subject": subject.name,
        "key": subject.key,
        "doc": doc if isinstance(doc, str) else "",
        "compatibility": levels.get(subject.name, subject.compatibility),
        "declared_compatibility": subject.compatibility,
        "versions": versions,
        "producers": uses.producers.get(subject.name, []),
        "consumers": uses.consumers.get(subject.name, []),
        "saga_steps": uses.saga_steps.get(subject.full_name, []),
    }


def _fields(schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    fields = []
    for field in schema.get("fields", []):
        entry: dict[str, Any] = {
            "name": field["name"],
            "type": _type_name(field["type"]),
            "doc": field.get("doc", ""),
        }
        # Only a field that has a default says so: a default of null is a default.
        if "default" in field:
            entry["default"] = field["default"]
        fields.append(entry)
    return fields


def _diff(old: SubjectVersion, new: SubjectVersion) -> dict[str, Any]:
    """What changed from ``old`` to ``new``: fields added, removed or retyped, and the text.

    Fields of nested records count too (``shipping_address.city``), but only under a field
    both versions have: a new record field is one addition, not one per nested field.
    """
    before, after = _field_types(old.resolved), _field_types(new.resolved)

    def new_here(path: str, mine: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
        parent = path.rpartition(".")[0]
        return path not in other and (not parent or (parent in mine and parent in other))

    changed = [
        {"field": path, "from": _type_name(before[path]), "to": _type_name(type_)}
        for path, type_ in after.items()
        if path in before and _type_name(before[path]) != _type_name(type_)
    ]
    text = difflib.unified_diff(
        json.dumps(old.resolved, indent=2).splitlines(),
        json.dumps(new.resolved, indent=2).splitlines(),
        fromfile=f"v{old.version}",
        tofile=f"v{new.version}",
        lineterm="",
    )
    return {
        "added": [path for path in after if new_here(path, after, before)],
        "removed": [path for path in before if new_here(path, before, after)],
        "changed": changed,
        "text": "\n".join(text),
    }


def _field_types(schema: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every field's type by dotted path, nested records' fields included, in order."""
    found: dict[str, Any] = {}
    for field in schema.get("fields", []):
        path = prefix + field["name"]
        found[path] = field["type"]
        for record in _records_in(field["type"]):
            found.update(_field_types(record, path + "."))
    return found


def _records_in(avro_type: Any) -> Iterator[Mapping[str, Any]]:
    """The records defined inside a field's type (in a union, an array, a map)."""
    if isinstance(avro_type, list):
        for branch in avro_type:
            yield from _records_in(branch)
    elif isinstance(avro_type, dict):
        kind = avro_type.get("type")
        if kind in ("record", "error"):
            yield avro_type
        elif kind == "array":
            yield from _records_in(avro_type.get("items"))
        elif kind == "map":
            yield from _records_in(avro_type.get("values"))
        elif isinstance(kind, dict | list):
            yield from _records_in(kind)


def _type_name(avro_type: Any) -> str:
    """An Avro type as a reader would say it: ``decimal(12,2)``, ``array<OrderLine>``,
    ``null | ShippingAddress``, ``enum Currency {EUR, USD, GBP}``."""
    if isinstance(avro_type, str):
        return avro_type.rpartition(".")[2]
    if isinstance(avro_type, list):
        return " | ".join(_type_name(branch) for branch in avro_type)
    if not isinstance(avro_type, dict):
        return str(avro_type)
    logical, kind = avro_type.get("logicalType"), avro_type.get("type")
    if logical == "decimal":
        return f"decimal({avro_type.get('precision')},{avro_type.get('scale', 0)})"
    if isinstance(logical, str):
        return logical
    name = str(avro_type.get("name", "")).rpartition(".")[2]
    if kind in ("record", "error"):
        return name
    if kind == "enum":
        return f"enum {name} {{{', '.join(avro_type.get('symbols', []))}}}"
    if kind == "fixed":
        return f"fixed {name}({avro_type.get('size')})"
    if kind == "array":
        return f"array<{_type_name(avro_type.get('items'))}>"
    if kind == "map":
        return f"map<{_type_name(avro_type.get('values'))}>"
    return _type_name(kind)


# -- JSON references -----------------------------------------------------------------------


def _resolve(document: Document, ref: str) -> Any:
    """What the local reference ``ref`` (``#/channels/orders/messages/OrderPlaced``) names."""
    node: Any = document
    for part in _parts(ref):
        node = node[part]
    return node


def _rechannel(ref: str, renamed: Mapping[str, str]) -> str:
    """``ref`` (under ``#/channels/``) pointing at its channel's new id."""
    parts = _parts(ref)
    parts[1] = renamed[parts[1]]
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _parts(ref: str) -> list[str]:
    if not ref.startswith("#/"):
        raise ValueError(f"not a local reference: {ref}")
    return [p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/")]


def _free(wanted: str, taken: Mapping[str, object]) -> str:
    """``wanted``, or ``wanted2``… when another address has that channel id already."""
    candidate, n = wanted, 1
    while candidate in taken:
        n += 1
        candidate = f"{wanted}{n}"
    return candidate
