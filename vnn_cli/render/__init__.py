"""The render path: the engine that runs a model on frame pairs (batching, bisection, tiling),
the per-pair stream (dedup, cuts, judge, neighbours, timing), the job over one video or sequence
(resumable), the two-image pair, where outputs go (video, sequence, compare view), overlapped
decode and encode, and batches of inputs."""
