# Point cloud plugin (plugins/allspark-plugin-pointcloud): ModelNet40 classification, 40 classes,
# 1,600 training / 910 test objects (shared/data/modelnet40, 1,024 points each).
# Encoder as in the paper, after Point-BERT: FPS 64 centres x 32 neighbours, mini-PointNet
# (128-256-512), 12-layer transformer of width 384; frozen MiniLM.  Too slow for the shared
# 2-core CPU (about 10 s per batch of 32): the measured run uses pointcloud_modelnet40_cpu.py.
# python tools/train.py pointcloud::modelnet40.py
_base_ = ['allspark::_base_/default_runtime.py', 'allspark::_base_/language_model.py']

data_root = '../shared/data/modelnet40'
num_classes = 40
num_points = 1024
model = dict(
    type='AllSpark',
    modalities=dict(pointcloud=dict(
        encoder=dict(type='PointTransformerEncoder', in_chans=3, num_groups=64, group_size=32,
                     embed_dim=384, depth=12, num_heads=6, mlp_ratio=4.0,
                     mini_channels=(128, 256, 512), fps_backend='auto'),
        bridge=dict(type='PerceiverBridge', num_queries=8, depth=1, num_heads=4,
                    ffn_ratio=2.0))),
    language_model={{_base_.language_model}},
    head=dict(type='LinearClsHead', num_classes=num_classes, label_smoothing=0.1, norm='batch'),
)
train_pipeline = [
    dict(type='PointCloudScaleTranslate', scale_low=2 / 3, scale_high=3 / 2, translate=0.2),
    dict(type='PointCloudRandomDropout', max_ratio=0.875),
]
train_dataloader = dict(
    batch_size=32, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(type='ModelNet40Dataset', data_root=data_root, split='train',
                 num_points=num_points, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(type='ModelNet40Dataset', data_root=data_root, split='test',
                 num_points=num_points))
test_dataloader = val_dataloader
val_evaluator = dict(type='ClassificationMetric', num_classes=num_classes)
test_evaluator = val_evaluator
max_epochs = 300
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
                     clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=10, T_max=max_epochs - 10, eta_min=1e-5,
         convert_to_iter_based=True)]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2))
