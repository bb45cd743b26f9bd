"""The console keeps no tables of its own: change requests are the core's (clearance.ChangeRequest)."""
