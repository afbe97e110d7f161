# Elevation <-> coordinates alignment on chips of the three real DEMs in ../shared/data/dem
# (SRTM 3" eastern Turkey, Copernicus GLO-30 Grenoble resampled, pysheds Dallas-Fort Worth):
# 32 x 32 px chips (elevation, nodata mask, slope), each with its centre (lat, lon) reprojected
# from the file's CRS: co-located pairs.  Checkerboard split (4 x 4-chip blocks alternate between
# train and test: spatially separated halves).  Direct path (encoder -> pool -> projection, no
# language model), AlignmentHead (symmetric InfoNCE).  Written by E2 for issue 13 section 4.
# allspark train elevation::dem_align_location.py
# allspark retrieval elevation::dem_align_location.py work_dirs/dem_align_location/epoch_10.pth
_base_ = ['allspark::_base_/default_runtime.py', 'allspark::_base_/language_model.py']

data_root = '../shared/data/dem'
channels = ['elevation', 'mask', 'slope']
aligned = ['elevation', 'location']
model = dict(
    type='AllSpark',
    fusion='direct',
    data_preprocessor=dict(type='AllSparkDataPreprocessor',
                           normalize=dict(elevation=dict(channels=len(channels)))),
    modalities=dict(
        elevation=dict(encoder=dict(type='ElevationViTEncoder', in_chans=len(channels),
                                    img_size=32, patch_size=8, embed_dim=128, depth=2,
                                    num_heads=4),
                       bridge=dict(type='PerceiverBridge', num_queries=8, depth=1, num_heads=4)),
        location=dict(encoder=dict(type='MultiScaleLocationEncoder', embed_dim=128,
                                   num_registers=2, depth=2, num_heads=4),
                      bridge=dict(type='LinearBridge'))),
    language_model={{_base_.language_model}},
    prompts=dict(elevation=[], location=[]),
    head=dict(type='AlignmentHead', modalities=aligned, embed_dim=128, temperature=0.07),
)
dataset = dict(type='DEMChipDataset', data_root=data_root, chip_size=32, channels=channels,
               split_mode='checkerboard', checker=4, empty_chips='drop',
               min_valid_fraction=0.5)
train_dataloader = dict(
    batch_size=64, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='allspark.collate'), dataset=dict(dataset, split='train'))
val_dataloader = dict(
    batch_size=128, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='allspark.collate'), dataset=dict(dataset, split='test'))
test_dataloader = val_dataloader
val_evaluator = dict(type='CrossModalRetrievalMetric', modalities=aligned)
test_evaluator = val_evaluator

max_epochs = 10
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.05),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs, T_max=max_epochs - 1,
         eta_min=1e-5, convert_to_iter_based=True),
]
default_hooks = dict(logger=dict(type='LoggerHook', interval=10),
                     checkpoint=dict(type='CheckpointHook', interval=max_epochs,
                                     max_keep_ckpts=1))
