"""Test support: Hypothesis strategies derived from Avro schemas, an in-memory registry of
the catalog, and a pytest plugin."""
