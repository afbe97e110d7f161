# Documentation generation (code -> docstring) on CodeSearchNet Ruby through a causal language
# model's own decoder (plugins/allspark-plugin-code, CodeCaptionHead): the language model reads
# [prompt ; bridged code] and continues with the documentation (teacher-forced LM loss in
# training, greedy decoding at test), scored by smoothed BLEU-4.
# Needs a causal language model: the embedded MiniLM has no decoder, so set
# model.language_model to one available locally, e.g.
#   --cfg-options model.language_model.name_or_path=/path/to/gpt2
# (the plugin's test runs this config with a tiny randomly initialised GPT-2).
_base_ = ['allspark::_base_/default_runtime.py']

data_root = '../shared/data/codesearchnet/ruby'
holdout = dict(num_train=261, seed=0, group_by='repo')
model = dict(
    type='AllSpark',
    modalities=dict(code=dict(
        encoder=dict(type='TextEncoder', max_length=256, truncation='head'),
        bridge=dict(type='PerceiverBridge', num_queries=16, depth=1, num_heads=4))),
    language_model=dict(type='HFLanguageModel', name_or_path='gpt2', freeze=True),
    head=dict(type='CodeCaptionHead', target_key='doc', max_target_tokens=48,
              max_new_tokens=32),
)
pipeline = [dict(type='CodeTruncateChars', max_chars=4000), dict(type='DocFirstSentence')]
dataset = dict(type='CodeSearchNetDataset', data_root=data_root, ann_file='test.jsonl',
               holdout=holdout, modalities=['code'], pipeline=pipeline)
train_dataloader = dict(
    batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='allspark.collate'), dataset=dict(dataset, split='train'))
val_dataloader = dict(
    batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='allspark.collate'), dataset=dict(dataset, split='test'))
test_dataloader = val_dataloader
val_evaluator = dict(type='CaptionBLEUMetric', target_key='doc')
test_evaluator = val_evaluator
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=10)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.01),
                     clip_grad=dict(max_norm=1.0))
