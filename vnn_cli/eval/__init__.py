"""Scoring interpolation: the drop-frame protocol (even frames in, odd frames predicted), the one
frame reader it and training use, PSNR and SSIM, and grading a model's predictions."""
