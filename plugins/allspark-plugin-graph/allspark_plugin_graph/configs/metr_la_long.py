# Graph, METR-LA first week: graph::metr_la.py trained 10x longer for a machine that is not
# shared (1,500 x 4 windows, about 4.3 passes over the 1,395 training windows; ~15 min on one
# thread), in bfloat16 autocast (AllSpark's AutocastOptimWrapper: the frozen MiniLM's products
# over 207 node tokens dominate a step; 1.0 -> 0.6 s per step here), with weekday / weekend day
# classes: the training part (Thu..Mon) never sees the test days (Tue, Wed), whose day-of-week
# embeddings would stay at their random initialisation; loss |e| + e^2/2 (l1_mse: L1 alone learns
# the median and lost RMSE at horizon 12, MSE alone lost MAPE).  Chosen on the validation windows
# (docs/results/graph.md, session 4).
#   allspark benchmark metr_la --seeds 0 --config graph::metr_la_long.py
_base_ = ['./metr_la.py']

max_iters = 1500
model = dict(modalities=dict(graph=dict(encoder=dict(dow_classes=2))),
             head=dict(loss='l1_mse'))
train_cfg = dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(type='AutocastOptimWrapper')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=30, end=max_iters, eta_min=1e-5)]
default_hooks = dict(checkpoint=dict(interval=max_iters))
