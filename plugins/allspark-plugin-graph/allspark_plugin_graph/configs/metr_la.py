# Graph plugin (plugins/allspark-plugin-graph): traffic speed forecasting on the METR-LA sensor
# graph, Los-loop subset (the first 7 days of METR-LA, 207 sensors, 5-minute steps).
# 12 steps in -> 12 steps out for every sensor; chronological 70/10/20 split of the windows.
# python tools/train.py graph::metr_la.py ; benchmark: allspark benchmark metr_la --seeds 0
# Full METR-LA / PEMS-BAY: speed_file='metr-la.h5' (num_nodes 207) / 'pems-bay.h5' (325).
_base_ = ['allspark::_base_/default_runtime.py', 'allspark::_base_/language_model.py']

data_root = '../shared/data/metr_la'
num_nodes, in_steps, out_steps = 207, 12, 12
model = dict(
    type='AllSpark',
    data_preprocessor=dict(type='AllSparkDataPreprocessor',
                           normalize=dict(graph=dict(channels=1, dim=-1, key='x'))),
    modalities=dict(graph=dict(
        encoder=dict(type='STAEGraphEncoder', num_nodes=num_nodes, in_steps=in_steps,
                     steps_per_day=288, input_dim=24, tod_dim=24, dow_dim=16, adaptive_dim=32,
                     num_heads=4, temporal_layers=1, spatial_layers=1, dropout=0.1,
                     out_dim=128),
        bridge=dict(type='LinearBridge'))),  # one bridged token per node
    language_model={{_base_.language_model}},
    head=dict(type='SequenceRegHead', horizon=out_steps, channels=1, num_modes=1,
              source='tokens:graph', loss='l1'),
)
dataset_common = dict(type='TrafficGraphDataset', data_root=data_root,
                      speed_file='los_speed.csv', start_time='2012-03-01 00:00:00',
                      step_minutes=5, in_steps=in_steps, out_steps=out_steps,
                      split_ratio=(0.7, 0.1, 0.2), target='residual', nan_policy='error')
train_dataloader = dict(
    batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(**dataset_common, split='train',
                 locations_file='graph_sensor_locations.csv', adj_file='adj_mx.pkl'))
val_dataloader = dict(
    batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(**dataset_common, split='val', indices=48))  # first 4 hours of val: cheap
test_dataloader = dict(
    batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(**dataset_common, split='test'))
val_evaluator = dict(type='TrafficForecastMetric', horizons=(3, 6, 12))
test_evaluator = val_evaluator

# Sized for a 2-core CPU shared with other jobs: ~600 training windows (under half an epoch:
# every window is 207 node tokens through the 6-layer language model).
max_iters = 150
train_cfg = dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.01),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=15),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=15, end=max_iters, eta_min=1e-5)]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=max_iters, by_epoch=False,
                                     max_keep_ckpts=1),
                     logger=dict(type='LoggerHook', interval=10))
log_processor = dict(by_epoch=False, window_size=10)
