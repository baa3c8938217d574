"""What keeps a model from making a bad frame: scene cuts, duplicate frames, the fallback judge
(and `Guarded`, a model behind both), one thumbnail flow they share, and the rule that drops
neighbour frames across a cut."""
