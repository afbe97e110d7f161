# Salinas-A 40 %: hsi::salinas_a.py trained 60 epochs without label smoothing and without
# SpectralJitter (session 3's best test run, 99.59 %).  The session-4 probes on a held-out quarter
# of the training pixels start from here (docs/results/hsi.md), e.g.
#   allspark benchmark hsi --scenes salinas_a --config salinas_a=hsi::salinas_a_60ep.py --seeds 0 --holdout 0.25 \
#       --cfg-options model.modalities.hsi.encoder.spectrum_token=True
_base_ = ['./salinas_a.py']

max_epochs = 60
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs))  # one checkpoint, at the end
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=True, T_max=max_epochs, eta_min=1e-5,
         convert_to_iter_based=True)]
model = dict(head=dict(label_smoothing=0.0))
train_dataloader = dict(dataset=dict(pipeline=[]))
test_evaluator = dict(map_png='work_dirs/hsi_salinas_a_60ep/salinas_a_map.png')
