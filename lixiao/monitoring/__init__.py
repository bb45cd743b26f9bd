"""Monitoring: health and readiness probes, Prometheus metrics, request ids and structured logs."""
