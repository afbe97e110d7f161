# The AllSpark paper's RGB setup (Table XV: 8176.02M total, 689.80M trainable): the frozen EVA-g
# (timm eva_giant_patch14_224: 40 blocks, width 1408, 1011.15M parameters, 224 px) as the token
# encoder, one modal bridge at the LM's width 4096 (32 queries), the frozen Vicuna-7B, a linear
# head; UC Merced data and EVA's preprocessing from rgb::ucmerced_evag.py. Not for this CPU; set
# model.modalities.rgb.encoder.checkpoint_path to EVA-g weights and a real Vicuna for a GPU run.
_base_ = ['rgb::ucmerced_evag.py', './_base_/vicuna_7b.py']
model = dict(
    modalities=dict(rgb=dict(bridge=dict(type='PerceiverBridge', num_queries=32, depth=2,
                                         num_heads=32, ffn_ratio=2.0))),
    language_model={{_base_.paper_language_model}},
    head=dict(type='LinearClsHead', num_classes=21, dropout=0.0, label_smoothing=0.0))
