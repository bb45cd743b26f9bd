"""Benchmarks: seed a synthetic university, time the key operations beside raw SQL (make bench)."""
