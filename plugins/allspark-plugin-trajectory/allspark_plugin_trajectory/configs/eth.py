# Trajectory plugin (plugins/allspark-plugin-trajectory): ETH-UCY, ETH fold (leave-one-scene-out:
# train/val = the other scenes, test = biwi_eth.txt). Observe 8 steps (3.2 s), predict 12 (4.8 s),
# K = 20 hypotheses (winner-takes-all); ADE/FDE best-of-20 and hypothesis 0 (K = 1).
# Head: LayerNorm on the pooled language-model features (norm='layer'): 600 iterations gave
# best-of-20 0.430/0.636 with it, 0.473/0.719 without, 1.85/1.88 with norm='batch'
# (docs/results/trajectory.md).  600 iterations of 32 windows: ~200 s on one thread.
# python tools/train.py trajectory::eth.py ; benchmark: allspark benchmark eth --folds eth --seeds 0 --skip-k1
_base_ = ['allspark::_base_/default_runtime.py', 'allspark::_base_/language_model.py']

data_root = '../shared/data/eth_ucy/eth'
obs_len, pred_len, num_modes, max_neighbors = 8, 12, 20, 8
model = dict(
    type='AllSpark',
    modalities=dict(trajectory=dict(
        encoder=dict(type='TrajTransformerEncoder', obs_len=obs_len, embed_dim=128, depth=2,
                     num_heads=4, coord_scale=2.0, use_neighbors=True),
        bridge=dict(type='PerceiverBridge', num_queries=4, depth=1, num_heads=4))),
    language_model={{_base_.language_model}},
    head=dict(type='SequenceRegHead', horizon=pred_len, channels=2, num_modes=num_modes,
              source='bridged', loss='l2', hidden_dim=512, norm='layer'),
)
dataset_common = dict(type='ETHUCYDataset', data_root=data_root, obs_len=obs_len,
                      pred_len=pred_len, max_neighbors=max_neighbors, min_peds=1)
train_dataloader = dict(
    batch_size=32, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(**dataset_common, split='train',
                 pipeline=[dict(type='TrajCanonicalRotate'),
                           dict(type='TrajRandomRotate', max_angle=15.0),
                           dict(type='TrajRandomFlip', prob=0.5),
                           dict(type='TrajRandomScale', low=0.9, high=1.1)]))
val_dataloader = dict(
    batch_size=128, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(**dataset_common, split='val', subsample=20,
                 pipeline=[dict(type='TrajCanonicalRotate')]))
test_dataloader = dict(
    batch_size=128, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(**dataset_common, split='test', pipeline=[dict(type='TrajCanonicalRotate')]))
val_evaluator = dict(type='TrajectoryMetric')
test_evaluator = val_evaluator

# Sized for a 2-core CPU shared with other jobs (300 x 32 windows,
# about 1/3 epoch: ~13 minutes of training under load).
max_iters = 600
train_cfg = dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.01),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=max_iters, eta_min=1e-5)]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=max_iters, by_epoch=False,
                                     max_keep_ckpts=1),
                     logger=dict(type='LoggerHook', interval=25))
log_processor = dict(by_epoch=False, window_size=25)
