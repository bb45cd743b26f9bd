"""Locust user classes for the HTTP benches (bench/login_storm.py, bench/day.py)."""
