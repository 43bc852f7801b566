"""Arbitrary input never makes the registry answer 5xx: bad input is always a 4xx."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
TYPE_NAMES = st.sampled_from(["null", "boolean", "int", "long", "string", "bytes", "R", "x.R"])


def _schemas() -> st.SearchStrategy[Any]:
    """Schema-shaped JSON: mostly plausible, often subtly wrong."""
    return st.recursive(
        TYPE_NAMES,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.fixed_dictionaries(
                {"type": st.just("record"), "name": st.sampled_from(["R", "S", "x.R", "1"])},
                optional={
                    "fields": st.lists(
                        st.fixed_dictionaries(
                            {"name": st.sampled_from(["a", "b", "a"]), "type": inner},
                            optional={"default": JSON, "aliases": JSON},
                        ),
                        max_size=3,
                    ),
                    "namespace": st.sampled_from(["", "x", "x.y"]),
                },
            ),
            st.fixed_dictionaries(
                {"type": st.sampled_from(["enum", "fixed", "array", "map"])},
                optional={
                    "name": st.sampled_from(["E", "F"]),
                    "symbols": JSON,
                    "size": JSON,
                    "items": inner,
                    "values": inner,
                    "default": JSON,
                },
            ),
        ),
        max_leaves=6,
    )


BODIES = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {"schema": st.one_of(st.text(max_size=20), _schemas().map(json.dumps))},
        optional={"references": JSON, "schemaType": JSON, "id": JSON, "version": JSON},
    ),
)
FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


@FUZZ
@given(body=BODIES)
def test_schema_bodies_never_cause_a_server_error(client: TestClient, body: Any) -> None:
    """Registering, looking up and checking any body answers below 500."""
    for url in (
        "/subjects/fuzz/versions",
        "/subjects/fuzz",
        "/compatibility/subjects/fuzz/versions/latest?verbose=true",
    ):
        response = client.post(url, json=body)
        assert response.status_code < 500, (url, response.text)


@FUZZ
@given(subject=st.text(max_size=12), version=st.text(max_size=6))
def test_path_parameters_never_cause_a_server_error(
    client: TestClient, subject: str, version: str
) -> None:
    """Any subject and version in the path answer below 500."""
    s, v = quote(subject, safe=""), quote(version, safe="")
    for method, url in (
        ("GET", f"/subjects/{s}/versions"),
        ("GET", f"/subjects/{s}/versions/{v}"),
        ("DELETE", f"/subjects/{s}/versions/{v}"),
        ("DELETE", f"/subjects/{s}"),
        ("GET", f"/config/{s}"),
        ("GET", f"/subjects?subjectPrefix={s}"),
        ("GET", f"/schemas/ids/{v}"),
    ):
        response = client.request(method, url)
        assert response.status_code < 500, (method, url, response.text)


@FUZZ
@given(body=JSON)
def test_settings_bodies_never_cause_a_server_error(client: TestClient, body: Any) -> None:
    """Any body sent to the config and mode endpoints answers below 500."""
    for url in ("/config", "/config/fuzz", "/mode/fuzz"):
        response = client.put(url, json=body)
        assert response.status_code < 500, (url, response.text)
    client.put("/mode", json={"mode": "READWRITE"})
