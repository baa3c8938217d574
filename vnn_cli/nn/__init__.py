"""Network building blocks and the classical pieces the models compose: backward warping, DIS
flow, the one DIS interpolation and the RIFE candidate, quadratic motion, the shared U-Net core,
RIFE's IFNets (HDv3; Practical-RIFE 4.0 and 4.25), VGG16 features, and weights with their model cards."""
