# SAR plugin: the feature model for MSTAR few-shot evaluation (`allspark fewshot`), a modality
# the AllSpark paper did not test few-shot.  MSTARDataset's fixed split: BRDM_2, D7 and ZIL131
# are the 3 novel classes (never seen in training); the model trains on the 7 BASE classes'
# 17-degree training chips only (1,850 chips), no pretrained weights.  Episodes (3-way) come from
# the 15-degree test chips of the novel classes; settings are chosen on the base classes' test
# chips.  Encoder and bridge of mstar_cpu.py (SARConvEncoder 32-64-128, Perceiver 4 queries) ->
# frozen MiniLM -> TextPrototypeHead with descriptive class texts ('bulldozer', 'military
# truck': metainfo['class_texts']).  Budget: 1 epoch = 1,850 chip passes (float32).
#   allspark train sar::mstar_fewshot_base.py
#   allspark fewshot sar::mstar_fewshot_base.py work_dirs/mstar_fewshot_base/epoch_1.pth \
#       --way 3 --shot 1 5 --query 15 --episodes 600 --seed 0
_base_ = ['./mstar_cpu.py']

base_classes = ['2S1', 'BMP2', 'BTR60', 'BTR70', 'T62', 'T72', 'ZSU_23_4']
base_class_texts = ['self-propelled howitzer', 'infantry fighting vehicle',
                    'eight-wheeled armoured personnel carrier',
                    'wheeled armoured personnel carrier', 'main battle tank',
                    'modern main battle tank', 'self-propelled anti-aircraft gun']
model = dict(head=dict(_delete_=True, type='TextPrototypeHead', class_texts=base_class_texts,
                       modality='sar', norm='batch'))
train_dataloader = dict(dataset=dict(classes=base_classes))
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None

fewshot = dict(
    modality='sar',
    dataset=dict(type='MSTARDataset', data_root={{_base_.data_root}}, channels=1,
                 crop_size=96, cache=True, split='test',
                 pipeline=[dict(type='CenterCrop', size=88, keys='sar')]),
    batch_size=64)

max_epochs = 1
train_cfg = dict(by_epoch=True, max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.05, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=max_epochs, eta_min=1e-5,
         convert_to_iter_based=True),
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=max_epochs,
                                     max_keep_ckpts=1))
