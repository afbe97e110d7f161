# RGB plugin (plugins/allspark-plugin-rgb): UC Merced land-use scene classification, CPU default.
# Encoder: a small ViT (timm vit_tiny_patch16_224 layout, 6 blocks, 96 px input -> 36 patch
# tokens + class token) trained from scratch -> Perceiver bridge -> frozen MiniLM -> linear head.
# The paper's encoder (EVA-g, frozen) is rgb::ucmerced_evag.py.
# Protocol on the 240-image copy in ../shared/data/ucmerced: all 21 classes, seeded (seed 0)
# stratified 50 % split per class -> 120 train / 120 test (base classes 2 + 2, novel 15 + 15).
# python tools/train.py rgb::ucmerced.py
# python tools/test.py rgb::ucmerced.py work_dirs/rgb_ucmerced/epoch_25.pth
_base_ = ['allspark::_base_/default_runtime.py', 'allspark::_base_/language_model.py']

data_root = '../shared/data/ucmerced'
num_classes = 21
img_size = 96
split = dict(train_ratio=0.5, seed=0)
model = dict(
    type='AllSpark',
    data_preprocessor=dict(type='AllSparkDataPreprocessor', normalize=dict(rgb=dict(channels=3))),
    modalities=dict(rgb=dict(
        encoder=dict(type='TimmTokenEncoder', model_name='vit_tiny_patch16_224',
                     pretrained=False, frozen=False, img_size=img_size,
                     model_kwargs=dict(depth=6, drop_path_rate=0.1)),
        bridge=dict(type='PerceiverBridge', num_queries=8, depth=1, num_heads=4))),
    language_model={{_base_.language_model}},
    head=dict(type='LinearClsHead', num_classes=num_classes, dropout=0.1, label_smoothing=0.1),
)

train_pipeline = [
    dict(type='RGBRandomResizedCrop', size=img_size, scale=(0.5, 1.0)),
    dict(type='RandomFlip', prob=0.5, directions=('horizontal', 'vertical'), keys='rgb'),
    dict(type='RandomRotate90', keys='rgb'),
    dict(type='RGBColorJitter', brightness=0.2, contrast=0.2),
]
test_pipeline = [dict(type='Resize', size=img_size, keys='rgb')]
train_dataloader = dict(
    batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(type='UCMercedDataset', data_root=data_root, split='train',
                 pipeline=train_pipeline, **split))
val_dataloader = dict(
    batch_size=20, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(type='UCMercedDataset', data_root=data_root, split='test',
                 pipeline=test_pipeline, **split))
test_dataloader = val_dataloader
val_evaluator = dict(type='ClassificationMetric', num_classes=num_classes)
test_evaluator = val_evaluator

max_epochs = 25
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.05),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=3,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=3, end=max_epochs, T_max=max_epochs - 3,
         eta_min=1e-5, convert_to_iter_based=True),
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=max_epochs,
                                     max_keep_ckpts=1))
