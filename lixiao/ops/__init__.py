"""Operating Lixiao for years: backup and restore, key rotation (management commands)."""
