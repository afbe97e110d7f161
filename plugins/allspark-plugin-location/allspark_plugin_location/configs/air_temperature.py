# Location plugin: annual mean air temperature at 3,076 weather stations from (lat, lon) alone
# (SatCLIP's air-temperature task; seeded random 50/50 split).  MultiScaleLocationEncoder (four
# RFF scales -> four tokens + two registers) -> Perceiver bridge -> frozen MiniLM -> linear head.
#   allspark train location::air_temperature.py
#   allspark test location::air_temperature.py work_dirs/air_temperature/iter_600.pth
# The regression probes of docs/results/geo.md (frozen embeddings, ridge / MLP) are the
# benchmark `allspark benchmark geo_regression`, not this config.
_base_ = ['allspark::_base_/default_runtime.py', 'allspark::_base_/language_model.py']

data_root = '../shared/data/geo_regression/air_temperature'
scales = [1.0, 16.0, 256.0, 4096.0]
max_iters = 600

model = dict(
    type='AllSpark',
    modalities=dict(location=dict(
        encoder=dict(type='MultiScaleLocationEncoder', embed_dim=128, scales=scales,
                     num_frequencies=128, num_registers=2, depth=2, num_heads=4),
        bridge=dict(type='PerceiverBridge', num_queries=2, depth=1, num_heads=4,
                    ffn_ratio=2.0))),
    language_model={{_base_.language_model}},
    prompts=dict(location=[]),  # no prompt tokens: the sequence is the 2 bridged tokens
    head=dict(type='LinearRegHead', out_dim=1, loss='mse', norm='batch'),
)

dataset_cfg = dict(type='CoordinateTableDataset', data_root=data_root, file='stationDataAll.csv',
                   lat_column='Lat', lon_column='Lon', target_column='meanT',
                   split_mode='random', train_ratio=0.5, seed=0)
train_dataloader = dict(
    batch_size=128, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(split='train', pipeline=[dict(type='CoordinateJitter', sigma_km=1.0)],
                 **dataset_cfg))
test_dataloader = dict(
    batch_size=512, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(split='test', **dataset_cfg))
test_evaluator = dict(type='RegressionMetric')
val_dataloader = None
val_evaluator = None
val_cfg = None
test_cfg = dict()

train_cfg = dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.05, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=30, end=max_iters,
         T_max=max_iters - 30, eta_min=1e-5)]
default_hooks = dict(logger=dict(type='LoggerHook', interval=20),
                     checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters))
log_processor = dict(by_epoch=False)
