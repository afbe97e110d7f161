# HSI plugin, Salinas-A with 5 % of every class's labelled pixels for training (95 % test).
# 100 epochs since session 5 (chosen by repeated 4-fold CV on the 268 training pixels; was 40).
#   allspark benchmark hsi --scenes salinas_a --config salinas_a=hsi::salinas_a_5pct.py --seeds 0
_base_ = ['./salinas_a.py']

train_ratio = 0.05
work_png = 'work_dirs/hsi_salinas_a_5pct/salinas_a_5pct_map.png'
train_dataloader = dict(dataset=dict(train_ratio=train_ratio))
test_dataloader = dict(dataset=dict(train_ratio=train_ratio))
test_evaluator = dict(map_png=work_png)
max_epochs = 100
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs))  # one checkpoint, at the end
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=True, T_max=max_epochs, eta_min=1e-5,
         convert_to_iter_based=True)]
