#!/bin/sh
# Reproduce the shipped weights/unet.safetensors, the seed's direct-synthesis baseline: `vnn train`
# on the six training clips of /work/shared/data/videos, validated on the two held-out clips, then
# exported. 50 minutes on 2 CPU cores (about 0.45 steps/s); the learning rate schedule is set for
# 6000 steps, so `--resume` with more minutes continues the same run.
set -e
V=${VIDEOS:-/work/shared/data/videos}
export OMP_WAIT_POLICY=PASSIVE
vnn train --model unet \
  --data "$V/ball.mp4" --data "$V/bigbuckbunny.mp4" --data "$V/bikes.mp4" \
  --data "$V/carphone.mp4" --data "$V/coin.mov" --data "$V/tree.avi" \
  --val "$V/megamind.avi" --val "$V/pedestrians.avi" \
  --loss "laplacian+0.1*census" --steps 6000 --batch-size 8 --crop 128 --lr 5e-4 --warmup-steps 200 --strides 1,2 \
  --val-every 500 --checkpoint-every 250 --val-frames 21 --val-max-width 1280 \
  --run-dir runs/unet --minutes 50 --seed 0 --device cpu --threads 2 "$@"
vnn train --run-dir runs/unet --export weights/unet.safetensors --export-only
