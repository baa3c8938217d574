"""`vnn extract` (being written)."""
COMMANDS = []
