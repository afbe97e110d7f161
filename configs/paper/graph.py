# The AllSpark paper's graph setup (Table XV: 7223.91M total, 747.64M trainable): the graph
# plugin's STAEformer-style encoder at STAEformer's published METR-LA size (input, time-of-day
# and day-of-week embeddings 24 each, adaptive embedding 80 -> model width 152; 3 temporal + 3
# spatial layers, 4 heads, FFN 256), one token per sensor (207). The bridge stays the plugin's
# LinearBridge (152 -> 4096, one bridged token per node: the head forecasts per node), the frozen
# Vicuna-7B, the per-node regression head; METR-LA data from graph::metr_la.py. Not for this CPU.
_base_ = ['graph::metr_la.py', './_base_/vicuna_7b.py']
model = dict(
    modalities=dict(graph=dict(
        encoder=dict(input_dim=24, tod_dim=24, dow_dim=24, adaptive_dim=80, num_heads=4,
                     ffn_ratio=256 / 152, temporal_layers=3, spatial_layers=3, out_dim=152),
        bridge=dict(type='LinearBridge'))),
    language_model={{_base_.paper_language_model}})
