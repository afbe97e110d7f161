# Modalities that meet: a EuroSAT-MS tile's 13 bands and its coordinates (the tile centre
# reprojected from UTM to (lat, lon)) go through their own encoders and bridges into ONE frozen
# MiniLM sequence [prompt ; bridged MSI ; bridged location], and one linear head reads it
# (fusion='joint').  Trained with modality dropout (location dropped from 30 % of the training
# samples, its tokens masked out of attention), so the model still answers when location is
# missing at test time (test with `--cfg-options "test_dataloader.dataset.modalities=['msi']"`).
# Same budget and settings: eurosat_joint_msi.py (MSI alone), eurosat_joint_msi_rgb_location.py.
# Data: eurosat/ + eurosat_more/ (216 train / 54 test tiles, the source's own split).
# allspark train msi::eurosat_joint_msi_location.py
# bf16 where the device has bf16 units (same-run comparison, seed 0: accuracy 63.0 % bf16 = 63.0 % fp32; MSI alone 66.7 vs 61.1; docs/benchmarks.md)
_base_ = ['allspark::_base_/default_runtime.py', 'allspark::_base_/language_model.py',
          'allspark::_base_/precision_auto.py']

data_root = '../shared/data/eurosat'
extra_roots = ['../shared/data/eurosat_more']
num_classes = 10
num_bands = 13
inputs = ['msi', 'location']
classes = ['AnnualCrop', 'Forest', 'HerbaceousVegetation', 'Highway', 'Industrial', 'Pasture',
           'PermanentCrop', 'Residential', 'River', 'SeaLake']
vit_kw = dict(type='MSIViTEncoder', model_name='vit_tiny_patch16_224', img_size=64,
              patch_size=16, embed_dim=192, depth=2, num_heads=3, pretrained=False,
              drop_path_rate=0.1)
model = dict(
    type='AllSpark',
    fusion='joint',
    modality_dropout=dict(location=0.3, rgb=0.3),
    data_preprocessor=dict(type='AllSparkDataPreprocessor',
                           normalize=dict(msi=dict(channels=num_bands), rgb=dict(channels=3))),
    # every variant configures the same three modalities; the dataset decides which are present
    modalities=dict(
        msi=dict(encoder=dict(vit_kw, in_chans=num_bands),
                 bridge=dict(type='PerceiverBridge', num_queries=8, depth=1, num_heads=4)),
        rgb=dict(encoder=dict(vit_kw, in_chans=3),
                 bridge=dict(type='PerceiverBridge', num_queries=8, depth=1, num_heads=4)),
        location=dict(encoder=dict(type='MultiScaleLocationEncoder', embed_dim=128,
                                   num_registers=2, depth=2, num_heads=4),
                      bridge=dict(type='LinearBridge'))),
    language_model={{_base_.language_model}},
    # one prompt whatever is present (the MSI one), so dropping location changes no prompt token
    prompts=dict(msi=['What land cover does this multispectral satellite image show?'],
                 rgb=[], location=[]),
    head=dict(type='LinearClsHead', num_classes=num_classes, dropout=0.1, label_smoothing=0.1),
)
train_pipeline = [dict(type='CoLocatedFlipRotate', keys=('msi', 'rgb')),
                  dict(type='MSIRandomBrightness', delta=0.1, prob=0.5)]
dataset = dict(type='EuroSATCoLocatedDataset', data_root=data_root, extra_roots=extra_roots,
               num_bands=num_bands, modalities=inputs)
train_dataloader = dict(
    batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=54, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='allspark.collate'), dataset=dict(dataset, split='test'))
test_dataloader = val_dataloader
val_evaluator = dict(type='ClassificationMetric', num_classes=num_classes, classes=classes)
test_evaluator = val_evaluator

max_epochs = 15
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.05),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=2, end=max_epochs, T_max=max_epochs - 2,
         eta_min=1e-5, convert_to_iter_based=True),
]
default_hooks = dict(logger=dict(type='LoggerHook', interval=7),
                     checkpoint=dict(type='CheckpointHook', interval=max_epochs,
                                     max_keep_ckpts=1))
