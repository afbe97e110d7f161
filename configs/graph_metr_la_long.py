# Graph, METR-LA first week: configs/graph_metr_la.py trained 4x longer (600 x 4 windows, about
# 1.7 passes over the 1,395 training windows), for a machine that is not shared.
#   python tools/benchmarks/metr_la.py --config configs/graph_metr_la_long.py
_base_ = ['./graph_metr_la.py']

max_iters = 600
train_cfg = dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=30, end=max_iters, eta_min=1e-5)]
default_hooks = dict(checkpoint=dict(interval=max_iters))
