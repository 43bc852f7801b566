"""Property: whatever JSON a schema file holds, linting reports findings and never crashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from evp.contract.catalog import Catalog, Subject, SubjectVersion, resolve_shared_types
from evp_codegen.lint import lint

_AVRO_KEYS = "type name namespace fields symbols items values size default doc logicalType"
_KEYS = st.sampled_from([*_AVRO_KEYS.split(), "precision", "scale"])
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 40)
    | st.sampled_from(["record", "enum", "fixed", "array", "map", "string", "int", "null"])
    | st.sampled_from(["bytes", "double", "decimal", "uuid", "Thing", "shop.orders.Thing", ""])
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=5),
    max_leaves=25,
)
_FIELD = st.dictionaries(_KEYS, _JSON, max_size=5)
_EVENT = st.fixed_dictionaries(
    {
        "type": st.just("record"),
        "name": st.just("OrderPlaced"),
        "namespace": st.just("shop.orders"),
        "fields": st.lists(_FIELD | _JSON, max_size=4),
    }
)


def catalog_of(source: dict[str, Any]) -> Catalog:
    """An in-memory catalog whose one subject has ``source`` as its only version."""
    root = Path("/schemas")
    version = SubjectVersion(
        "orders-shop.orders.OrderPlaced",
        1,
        root / "orders/OrderPlaced/v1.avsc",
        source,
        resolve_shared_types(source, {}),
    )
    subject = Subject(
        version.subject, "shop.orders.OrderPlaced", "orders", "order_id", "BACKWARD", (version,)
    )
    return Catalog(root, "shop", "BACKWARD", {"orders": ""}, subjects={subject.name: subject})


@settings(max_examples=100, deadline=None)
@given(_EVENT | st.dictionaries(_KEYS, _JSON, max_size=6))
def test_lint_never_raises(source: dict[str, Any]) -> None:
    """Malformed schemas turn into findings, never into exceptions."""
    findings = lint(catalog_of(source))
    assert all(f.rule and f.json_path.startswith("$") for f in findings)
