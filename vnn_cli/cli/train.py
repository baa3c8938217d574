"""`vnn train` (being written)."""
COMMANDS = []
