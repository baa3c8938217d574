"""`vnn bench`: quality (drop-frame PSNR/SSIM), speed and memory of every method in one run,
beside the classical peers (dup, blend, ffmpeg minterpolate, DIS flow), and reports of it.

    result = run_bench([Path("videos/")], BenchSettings(sizes=["1280x720"]))
    write_json(Path("r.json"), result)
"""
from .report import markdown, summarize, to_dict, write_csv, write_examples, write_json, write_markdown, write_plot
from .results import BenchResult
from .run import run_bench

__all__ = ["BenchResult", "markdown", "run_bench", "summarize", "to_dict", "write_csv", "write_examples", "write_json",
           "write_markdown", "write_plot"]
