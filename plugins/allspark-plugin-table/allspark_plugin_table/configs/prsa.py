# Table plugin (plugins/allspark-plugin-table): PRSA Beijing air quality, PM2.5 regression.
# Random 40 % / 60 % split (seed 0) over the rows with a PM2.5 value.
#   python tools/train.py table::prsa.py
#   python tools/test.py table::prsa.py work_dirs/table_prsa/iter_300.pth
#   allspark benchmark prsa --splits random --seeds 0        (AllSpark + gradient boosting)
# CPU budget (2 cores shared by 6 developers, load ~10; 420k rows): no prompt tokens and a
# 1-query bridge keep the frozen MiniLM sequence at 1 token (cost grows with every token);
# 300 iterations of batch 512 (153.6k rows drawn from the 164.8k training rows, ~0.93 epoch);
# the test split is scored on a fixed seeded 10 % subsample (subsample=0.1; the benchmark scores
# the baseline on both the subsample and the full test split), under bf16 autocast
# (test_cfg fp16=True: bfloat16 on CPU). Set subsample=1.0 to test on everything. There is no
# separate validation split in this protocol, so nothing is validated during training.
_base_ = ['allspark::_base_/default_runtime.py', 'allspark::_base_/language_model.py']

data_root = '../shared/data/prsa'
split_mode = 'random'
time_bins = 2048
columns = [
    dict(name='station'), dict(name='wd'), dict(name='year'), dict(name='month'),
    dict(name='hour'), dict(name='weekday'), dict(name='time', bins=time_bins),
    dict(name='SO2'), dict(name='NO2'), dict(name='CO'), dict(name='O3'), dict(name='TEMP'),
    dict(name='PRES'), dict(name='DEWP'), dict(name='RAIN'), dict(name='WSPM')]
# PM2.5 (target): rows dropped; every input: missing token ('mask').
missing = {'PM2.5': 'drop', 'default': 'mask'}
dataset_cfg = dict(type='PRSADataset', data_root=data_root, split_mode=split_mode,
                   train_ratio=0.4, seed=0, columns=columns, bins=64, missing=missing)

model = dict(
    type='AllSpark',
    modalities=dict(table=dict(
        encoder=dict(type='TabularTokenEncoder', num_columns=16, vocab_size=time_bins + 1,
                     embed_dim=64, depth=1, num_heads=4, ffn_ratio=2.0, piecewise_linear=True),
        bridge=dict(type='PerceiverBridge', num_queries=1, depth=1, num_heads=8,
                    ffn_ratio=2.0))),
    language_model={{_base_.language_model}},
    prompts=dict(table=[]),
    head=dict(type='LinearRegHead', out_dim=1, loss='mse'),
)

train_dataloader = dict(
    batch_size=512, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(split='train', pipeline=[dict(type='TableColumnDropout', p=0.05)],
                 **dataset_cfg))
test_dataloader = dict(
    batch_size=1024, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(split='test', subsample=0.1, **dataset_cfg))
test_evaluator = dict(type='RegressionMetric')
val_dataloader = None
val_evaluator = None
val_cfg = None
test_cfg = dict(fp16=True)

max_iters = 300
train_cfg = dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=3e-3, weight_decay=1e-4),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.05, by_epoch=False, begin=0, end=15),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=15, end=max_iters,
         T_max=max_iters - 15, eta_min=1e-5)]
default_hooks = dict(logger=dict(type='LoggerHook', interval=10),
                     checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters))
log_processor = dict(by_epoch=False)
