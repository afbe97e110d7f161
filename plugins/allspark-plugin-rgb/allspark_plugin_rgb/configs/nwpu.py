# RGB plugin: NWPU-RESISC45 scene classification (the paper's protocol: seeded stratified 20 %
# train / 80 % test). The copy in ../shared/data/nwpu_resisc45 holds only 2 of the 45 classes
# (20 JPEGs each): it is for format checks, not a benchmark; set num_classes=45 on the full set.
# python tools/train.py rgb::nwpu.py
_base_ = ['./ucmerced.py']

data_root = '../shared/data/nwpu_resisc45'
num_classes = 2
split = dict(train_ratio=0.2, seed=0)
model = dict(head=dict(num_classes=num_classes))
train_dataloader = dict(dataset=dict(type='NWPURESISC45Dataset', data_root=data_root, **split))
val_dataloader = dict(dataset=dict(type='NWPURESISC45Dataset', data_root=data_root, **split))
test_dataloader = val_dataloader
val_evaluator = dict(type='ClassificationMetric', num_classes=num_classes)
test_evaluator = val_evaluator
