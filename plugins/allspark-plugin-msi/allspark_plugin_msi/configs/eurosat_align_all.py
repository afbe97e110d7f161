# UniGeoCLIP-style all-to-all alignment of four real co-located modalities of every EuroSAT-MS
# tile (EuroSATCoLocatedDataset: 13-band MSI, the B04-B03-B02 RGB composite, the tile centre
# (lat, lon) reprojected from its UTM CRS, a caption from the class name), eurosat/ + eurosat_more/
# (216 train / 54 test tiles, the source's own split).
# Path: fusion='direct' (encoder -> pool -> projection, no language model: UniGeoCLIP's way);
# one key away, fusion='separate' is the LaRF way (encoder -> bridge -> MiniLM -> pooled ->
# projection): see eurosat_align_all_lm.py.  Loss: AlignmentHead, symmetric InfoNCE over every
# pair of modalities a batch's samples have (pivot=None); eurosat_align_pivot.py aligns every
# modality to location only (same budget).
# allspark train msi::eurosat_align_all.py
# allspark retrieval msi::eurosat_align_all.py work_dirs/eurosat_align_all/epoch_20.pth
# bf16 where the device has bf16 units (same-run comparison, seed 0: mean R@5 excl. location 68.2 % bf16 vs 67.0 % fp32; pivot 53.1 vs 54.0; docs/benchmarks.md)
_base_ = ['allspark::_base_/default_runtime.py', 'allspark::_base_/language_model.py',
          'allspark::_base_/precision_auto.py']

data_root = '../shared/data/eurosat'
extra_roots = ['../shared/data/eurosat_more']
num_bands = 13
aligned = ['msi', 'rgb', 'location', 'caption']
pivot = None
fusion = 'direct'
embed_dim = 128


# CPU size (a 2-core machine shared by several jobs): ViT width 192, 2 blocks, patch 16 ->
# 16 patch tokens + class token.
vit_kw = dict(type='MSIViTEncoder', model_name='vit_tiny_patch16_224', img_size=64,
              patch_size=16, embed_dim=192, depth=2, num_heads=3, pretrained=False,
              drop_path_rate=0.1)
model = dict(
    type='AllSpark',
    fusion=fusion,
    data_preprocessor=dict(type='AllSparkDataPreprocessor',
                           normalize=dict(msi=dict(channels=num_bands), rgb=dict(channels=3))),
    modalities=dict(
        msi=dict(encoder=dict(vit_kw, in_chans=num_bands),
                 bridge=dict(type='PerceiverBridge', num_queries=8, depth=1, num_heads=4)),
        rgb=dict(encoder=dict(vit_kw, in_chans=3),
                 bridge=dict(type='PerceiverBridge', num_queries=8, depth=1, num_heads=4)),
        # (lat, lon) -> 4 scale tokens (sigma 2^0, 2^4, 2^8, 2^12) + 2 registers
        location=dict(encoder=dict(type='MultiScaleLocationEncoder', embed_dim=128,
                                   num_registers=2, depth=2, num_heads=4),
                      bridge=dict(type='LinearBridge')),
        # direct path: MiniLM's (frozen) word embeddings, mean-pooled; LM path: read by MiniLM
        caption=dict(encoder=dict(type='TextEncoder', max_length=24),
                     bridge=dict(type='LinearBridge'))),
    language_model={{_base_.language_model}},
    prompts=dict(msi=[], rgb=[], location=[], caption=[]),
    head=dict(type='AlignmentHead', modalities=aligned, embed_dim=embed_dim, pivot=pivot,
              temperature=0.07, min_temperature=0.01, max_temperature=1.0),
)

train_pipeline = [dict(type='CoLocatedFlipRotate', keys=('msi', 'rgb'))]
dataset = dict(type='EuroSATCoLocatedDataset', data_root=data_root, extra_roots=extra_roots,
               num_bands=num_bands, modalities=aligned)
train_dataloader = dict(
    batch_size=32, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=54, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='allspark.collate'), dataset=dict(dataset, split='test'))
test_dataloader = val_dataloader
val_evaluator = dict(type='CrossModalRetrievalMetric', modalities=aligned, pivot='location')
test_evaluator = val_evaluator

max_epochs = 20
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.05),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=3,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=3, end=max_epochs, T_max=max_epochs - 3,
         eta_min=1e-5, convert_to_iter_based=True),
]
default_hooks = dict(logger=dict(type='LoggerHook', interval=7),
                     checkpoint=dict(type='CheckpointHook', interval=max_epochs,
                                     max_keep_ckpts=1))
