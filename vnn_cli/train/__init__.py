"""Training: data, loop, checkpoints, export."""
