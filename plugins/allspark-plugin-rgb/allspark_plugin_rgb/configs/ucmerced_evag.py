# RGB plugin, the AllSpark paper's RGB configuration: EVA-g (timm eva_giant_patch14_224: 40 blocks,
# width 1408, ~1.0 B parameters) frozen as the token encoder, 224 px input (256 patch tokens +
# class token), on UC Merced. Not meant for CPU training (checked here only to build).
# The frozen EVA-g needs pretrained weights to be useful: set
#   model.modalities.rgb.encoder.checkpoint_path=/path/to/eva_giant_patch14_224.pth
# (a timm state dict) -- nothing is downloaded. Input normalisation is then EVA's (OpenAI CLIP
# mean/std, in 0..255 units), not training-split statistics.
# python tools/train.py rgb::ucmerced_evag.py --cfg-options \
#     model.modalities.rgb.encoder.checkpoint_path=/path/to/eva_giant_patch14_224.pth
_base_ = ['./ucmerced.py']

img_size = 224
model = dict(
    data_preprocessor=dict(type='AllSparkDataPreprocessor', normalize=dict(rgb=dict(
        mean=[122.770938, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.32316305]))),
    modalities=dict(rgb=dict(
        encoder=dict(_delete_=True, type='TimmTokenEncoder', model_name='eva_giant_patch14_224',
                     pretrained=False, checkpoint_path=None, frozen=True, img_size=img_size),
        bridge=dict(type='PerceiverBridge', num_queries=32, depth=2, num_heads=8))),
)
train_pipeline = [
    dict(type='RGBRandomResizedCrop', size=img_size, scale=(0.5, 1.0)),
    dict(type='RandomFlip', prob=0.5, directions=('horizontal', 'vertical'), keys='rgb'),
    dict(type='RandomRotate90', keys='rgb'),
]
test_pipeline = [dict(type='Resize', size=img_size, keys='rgb')]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline, compute_stats=False))
val_dataloader = dict(batch_size=8, dataset=dict(pipeline=test_pipeline, compute_stats=False))
test_dataloader = val_dataloader
