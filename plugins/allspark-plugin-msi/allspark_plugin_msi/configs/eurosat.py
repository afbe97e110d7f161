# MSI plugin (plugins/allspark-plugin-msi): EuroSAT-MS land-use classification from 13-band
# Sentinel-2 GeoTIFFs. ViT (timm, in_chans=13, patch 8 on 64x64) -> Perceiver bridge -> frozen
# MiniLM -> linear head. Per-band normalisation statistics come from the training split
# (EuroSATDataset.stats) and are saved with the checkpoint (data preprocessor buffers).
# python tools/train.py msi::eurosat.py
# python tools/test.py msi::eurosat.py work_dirs/msi_eurosat/epoch_25.pth
_base_ = ['allspark::_base_/default_runtime.py', 'allspark::_base_/language_model.py']

data_root = '../shared/data/eurosat'
num_classes = 10
num_bands = 13
classes = ['AnnualCrop', 'Forest', 'HerbaceousVegetation', 'Highway', 'Industrial', 'Pasture',
           'PermanentCrop', 'Residential', 'River', 'SeaLake']
model = dict(
    type='AllSpark',
    data_preprocessor=dict(type='AllSparkDataPreprocessor',
                           normalize=dict(msi=dict(channels=num_bands))),
    modalities=dict(msi=dict(
        # CPU size: ViT-Tiny width (192), 4 blocks, 3 heads; 64 patch tokens + class token.
        # For RGB-pretrained weights set checkpoint_path (the patch embedding is adapted to 13
        # bands the timm way).
        encoder=dict(type='MSIViTEncoder', model_name='vit_tiny_patch16_224', in_chans=num_bands,
                     img_size=64, patch_size=8, embed_dim=192, depth=4, num_heads=3,
                     pretrained=False, checkpoint_path=None, drop_path_rate=0.1),
        bridge=dict(type='PerceiverBridge', num_queries=8, depth=1, num_heads=4))),
    language_model={{_base_.language_model}},
    head=dict(type='LinearClsHead', num_classes=num_classes, dropout=0.1, label_smoothing=0.1),
)

train_pipeline = [
    dict(type='RandomFlip', prob=0.5, directions=('horizontal', 'vertical'), keys='msi'),
    dict(type='RandomRotate90', keys='msi'),
    dict(type='MSIRandomBrightness', delta=0.1, prob=0.5),
]
train_dataloader = dict(
    batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(type='EuroSATDataset', data_root=data_root, split='train',
                 num_bands=num_bands, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=20, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(type='EuroSATDataset', data_root=data_root, split='test', num_bands=num_bands))
test_dataloader = val_dataloader
val_evaluator = dict(type='ClassificationMetric', num_classes=num_classes, classes=classes)
test_evaluator = val_evaluator

max_epochs = 25
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.05),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=5, end=max_epochs, T_max=max_epochs - 5,
         eta_min=1e-5, convert_to_iter_based=True),
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=max_epochs,
                                     max_keep_ckpts=1))
