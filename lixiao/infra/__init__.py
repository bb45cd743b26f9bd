"""What several nodes share below every layer: stored files, task worker liveness, scheduled slots.

Imports nothing of Lixiao: the core, surfaces and commands build on it.
"""
