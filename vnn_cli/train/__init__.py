"""Training: data (videos and triplet folders, augmented crops), the loop with validation and
resumable checkpoints, loss specs, triplet extraction, and export with a model card."""
