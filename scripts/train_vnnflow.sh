#!/bin/sh
# Reproduce the shipped weights/vnnflow.safetensors: `vnn train` on the six training clips of
# /work/shared/data/videos (see its README), validated on the two held-out clips, then exported.
# About 30 minutes on 2 CPU cores (about 1.6 steps/s). OMP_WAIT_POLICY=PASSIVE matters on a busy
# machine: with spinning OpenMP threads a step there took over ten times longer.
set -e
V=${VIDEOS:-/work/shared/data/videos}
export OMP_WAIT_POLICY=PASSIVE
vnn train --model vnnflow \
  --data "$V/ball.mp4" --data "$V/bigbuckbunny.mp4" --data "$V/bikes.mp4" \
  --data "$V/carphone.mp4" --data "$V/coin.mov" --data "$V/tree.avi" \
  --val "$V/megamind.avi" --val "$V/pedestrians.avi" \
  --loss laplacian --steps 2700 --batch-size 8 --crop 160 --lr 1e-3 --warmup-steps 200 --strides 1,2 \
  --val-every 250 --checkpoint-every 250 --val-frames 21 --val-max-width 1280 \
  --run-dir runs/vnnflow --minutes 28 --seed 0 --device cpu --threads 2 "$@"
vnn train --run-dir runs/vnnflow --export weights/vnnflow.safetensors --export-only
