# The AllSpark paper's multispectral setup, sized without the paper's encoder hyper-parameters
# (Table XV: 7455.14M total, 978.87M trainable). Stand-in encoder, not the paper's: the MSI
# plugin's timm ViT (13 Sentinel-2 bands, 64 px EuroSAT tiles, patch 8 -> 64 tokens) at ViT-Ti/16's
# standard size (width 192, 12 blocks, 3 heads; the plugin's own config uses 4 blocks for the
# CPU). The paper's MSI encoder is not named in the material available here; Table XV's MSI count
# is only 2.56M above SAR's (a three-layer CNN) and 4.56M above HSI's, which leaves room for a
# ViT-Ti-class encoder but not a ViT-S/B/L one if the rest of the model is the same (see
# docs/benchmarks.md, "The paper's configuration"). One modal bridge at the LM's width, the
# frozen Vicuna-7B, a linear head; EuroSAT data from msi::eurosat.py. Not for this CPU.
_base_ = ['msi::eurosat.py', './_base_/vicuna_7b.py']
model = dict(
    modalities=dict(msi=dict(
        encoder=dict(model_name='vit_tiny_patch16_224', embed_dim=192, depth=12, num_heads=3),
        bridge={{_base_.paper_bridge}})),
    language_model={{_base_.paper_language_model}})
