"""Test support: Hypothesis strategies derived from Avro schemas, and a pytest plugin."""
