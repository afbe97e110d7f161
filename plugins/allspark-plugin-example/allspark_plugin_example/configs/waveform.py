# Example plugin (plugins/allspark-plugin-example): waveform classification from CSV files.
# python tools/train.py example::waveform.py --cfg-options \
#     train_dataloader.dataset.data_root=DIR val_dataloader.dataset.data_root=DIR
_base_ = ['allspark::_base_/default_runtime.py', 'allspark::_base_/language_model.py']

data_root = 'data/waveforms'
num_classes = 4
model = dict(
    type='AllSpark',
    modalities=dict(signal=dict(
        encoder=dict(type='SignalPatchEncoder', in_chans=1, length=128, patch_size=8,
                     embed_dim=64),
        bridge=dict(type='PerceiverBridge', num_queries=8, depth=1, num_heads=4))),
    language_model={{_base_.language_model}},
    head=dict(type='LinearClsHead', num_classes=num_classes),
)
train_dataloader = dict(
    batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(type='WaveformCSVDataset', data_root=data_root, split='train',
                 pipeline=[dict(type='RandomTimeShift', max_shift=16)]))
val_dataloader = dict(
    batch_size=32, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(type='WaveformCSVDataset', data_root=data_root, split='test'))
test_dataloader = val_dataloader
val_evaluator = dict(type='ClassificationMetric', num_classes=num_classes)
test_evaluator = val_evaluator
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=1)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.01))
