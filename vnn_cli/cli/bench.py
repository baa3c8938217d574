"""`vnn bench` (being written)."""
COMMANDS = []
