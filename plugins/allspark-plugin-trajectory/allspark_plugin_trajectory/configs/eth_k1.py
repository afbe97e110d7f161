# K = 1 variant of trajectory_eth.py: one hypothesis, trained on every window (plain L2 / ADE loss).
_base_ = ['./eth.py']
model = dict(head=dict(num_modes=1, norm='none'))
# the separate K = 1 model was measured (0.933/1.796) with 150 iterations and the plain head:
# allspark benchmark eth --folds eth --seeds 0 --k1-max-iters 150 (see docs/results/trajectory.md)
