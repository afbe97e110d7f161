# The AllSpark paper's hyperspectral setup (Table XV: 7450.58M total, 974.31M trainable): the HSI
# plugin's spectral transformer with the paper's depth (12 layers) and one token per band
# (group_size=1: 204 tokens for Salinas-A); token width 64 is the plugin's (the paper's width is
# not in the material available here). One modal bridge at the LM's width, the frozen Vicuna-7B,
# a linear head; Salinas-A data from hsi::salinas_a.py. Not for this CPU.
_base_ = ['hsi::salinas_a.py', './_base_/vicuna_7b.py']
model = dict(
    modalities=dict(hsi=dict(
        encoder=dict(embed_dim=64, depth=12, num_heads=4, ffn_ratio=2.0, group_size=1),
        bridge={{_base_.paper_bridge}})),
    language_model={{_base_.paper_language_model}},
    # the paper prompts every modality (its Table XVI); the plugin's CPU config switched the
    # prompt off (prompts=dict(hsi=[])), this restores the plugin's registered prompts
    prompts=dict(_delete_=True))
