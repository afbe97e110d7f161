# Trajectory, ETH fold: trajectory::eth.py trained about 2 epochs (2,000 x 32 windows)
# instead of a third of one; for a machine that is not shared (about 8 minutes on 2 quiet cores).
#   allspark benchmark eth --folds eth --seeds 0 --config trajectory::eth_long.py --skip-k1
_base_ = ['./eth.py']
# as measured (0.462/0.695): the plain head of that time
model = dict(head=dict(norm='none'))

max_iters = 2000
train_cfg = dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=50, end=max_iters, eta_min=1e-5)]
default_hooks = dict(checkpoint=dict(interval=500, max_keep_ckpts=1))
