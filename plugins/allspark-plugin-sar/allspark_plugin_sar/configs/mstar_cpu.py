# SAR plugin, MSTAR SOC: the schedule that fits a 2-core CPU shared with other jobs (about 11 minutes
# of training): sar::mstar.py cut to 5 epochs and 4 bridge queries.
#   python tools/train.py sar::mstar_cpu.py
#   python tools/test.py sar::mstar_cpu.py work_dirs/sar_mstar_cpu/epoch_5.pth
#   allspark benchmark mstar --conditions soc --seeds 0 --config sar::mstar_cpu.py   (AllSpark + AConvNets)
_base_ = ['./mstar.py']

max_epochs = 5
# the settings of the measured 5-epoch run (78.64 %): +-4 px crops, plain linear head
model = dict(modalities=dict(sar=dict(encoder=dict(widths=(32, 64, 128)),
                                     bridge=dict(num_queries=4))), head=dict(norm='none'))
train_dataloader = dict(dataset=dict(crop_size=96))
val_dataloader = dict(dataset=dict(crop_size=96))
test_dataloader = dict(dataset=dict(crop_size=96))
test_evaluator = dict(confusion_png='work_dirs/sar_mstar_cpu/confusion_mstar_allspark.png')
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.05, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=max_epochs, eta_min=1e-5,
         convert_to_iter_based=True),
]
default_hooks = dict(checkpoint=dict(interval=max_epochs))
