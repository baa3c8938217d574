"""Video and image I/O over the bundled ffmpeg: probing (size, rate, rotation, colour), streaming
decode and encode, containers and their codecs, image sequences and their recorded rate, variable
frame-rate timestamps, the output guard, and frame and audio extraction."""
