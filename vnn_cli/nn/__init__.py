"""Network building blocks and the classical pieces the models compose: backward warping, DIS
flow, the one DIS interpolation and the RIFE candidate, quadratic motion, the shared U-Net core,
RIFE's IFNet, VGG16 features, and weights with their model cards."""
