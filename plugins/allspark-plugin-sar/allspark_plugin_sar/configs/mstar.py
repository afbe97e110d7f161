# SAR plugin (plugins/allspark-plugin-sar): MSTAR 10-class SOC target recognition
# (train 17 deg / test 15 deg), SAR conv encoder -> Perceiver bridge -> frozen MiniLM -> linear head.
#   python tools/train.py sar::mstar.py
#   python tools/test.py sar::mstar.py work_dirs/sar_mstar/epoch_30.pth
# Preprocessing (AConvNets): chips centre-cropped to 128 on read (and cached in memory), then a
# random 88 x 88 crop (+-20 px translation, AConvNets' augmentation) + horizontal flip in
# training, the centre 88 x 88 at test.  Linear head with norm='batch' (frozen-LM features, see
# docs/config_reference.md).  30 epochs: ~15-25 min on this 2-core CPU (docs/results/sar.md);
# sar::mstar_cpu.py is the 5-epoch variant measured under a shared load.
_base_ = ['allspark::_base_/default_runtime.py', 'allspark::_base_/language_model.py']

data_root = '../shared/data/mstar'
num_classes = 10
classes = ['2S1', 'BMP2', 'BRDM_2', 'BTR60', 'BTR70', 'D7', 'T62', 'T72', 'ZIL131', 'ZSU_23_4']
channels = 1
img_size = 88
max_epochs = 30

model = dict(
    type='AllSpark',
    data_preprocessor=dict(type='AllSparkDataPreprocessor',
                           normalize=dict(sar=dict(channels=channels))),
    modalities=dict(sar=dict(
        encoder=dict(type='SARConvEncoder', in_chans=channels, img_size=img_size,
                     widths=(64, 128, 256), kernel_sizes=(7, 5, 5), pool='stride'),
        bridge=dict(type='PerceiverBridge', num_queries=8, depth=1, num_heads=4,
                    ffn_ratio=2.0))),
    language_model={{_base_.language_model}},
    head=dict(type='LinearClsHead', num_classes=num_classes, label_smoothing=0.1, norm='batch'),
)

dataset_common = dict(type='MSTARDataset', data_root=data_root, channels=channels,
                      crop_size=128, cache=True, skip_bad_files=False, nodata='fill')
train_dataloader = dict(
    batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(**dataset_common, split='train', pipeline=[
        dict(type='RandomCrop', size=img_size, keys='sar'),
        dict(type='RandomFlip', prob=0.5, directions=('horizontal',), keys='sar')]))
val_dataloader = dict(
    batch_size=64, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(**dataset_common, split='test', pipeline=[
        dict(type='CenterCrop', size=img_size, keys='sar')]))
test_dataloader = val_dataloader
val_evaluator = dict(type='ClassificationMetric', num_classes=num_classes, classes=classes)
test_evaluator = dict(type='ClassificationMetric', num_classes=num_classes, classes=classes,
                      confusion_png='work_dirs/sar_mstar/confusion_mstar_allspark.png')

train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.05, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=max_epochs, eta_min=1e-5,
         convert_to_iter_based=True),
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=max_epochs,
                                     max_keep_ckpts=1))
