# Location plugin, classification: a class column of a coordinate CSV (e.g. a region or land
# cover label per point).  Used by the plugin's end-to-end test on a fixture; point data_root at
# a CSV with columns lat, lon, label.
#   allspark train location::points_cls.py --data-root my_points.csv
_base_ = ['allspark::_base_/default_runtime.py', 'allspark::_base_/language_model.py']

data_root = '../shared/data/points.csv'
num_classes = 2
max_iters = 300

model = dict(
    type='AllSpark',
    modalities=dict(location=dict(
        encoder=dict(type='MultiScaleLocationEncoder', embed_dim=64, scales=[1.0, 16.0],
                     num_frequencies=32, num_registers=1, depth=1, num_heads=4),
        bridge=dict(type='PerceiverBridge', num_queries=2, depth=1, num_heads=4,
                    ffn_ratio=2.0))),
    language_model={{_base_.language_model}},
    head=dict(type='LinearClsHead', num_classes=num_classes, norm='batch'),
)

dataset_cfg = dict(type='CoordinateTableDataset', data_root=data_root, lat_column='lat',
                   lon_column='lon', class_column='label', split_mode='random',
                   train_ratio=0.5, seed=0)
train_dataloader = dict(
    batch_size=32, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='allspark.collate'), dataset=dict(split='train', **dataset_cfg))
test_dataloader = dict(
    batch_size=128, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='allspark.collate'), dataset=dict(split='test', **dataset_cfg))
test_evaluator = dict(type='ClassificationMetric', num_classes=num_classes)
val_dataloader = None
val_evaluator = None
val_cfg = None
test_cfg = dict()

train_cfg = dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=3e-3, weight_decay=1e-4),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = []
default_hooks = dict(logger=dict(type='LoggerHook', interval=20),
                     checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters))
log_processor = dict(by_epoch=False)
