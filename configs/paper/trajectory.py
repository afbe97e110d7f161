# The AllSpark paper's trajectory setup (Table XV: 7381.00M total, 904.73M trainable): the
# trajectory plugin's TUTR-style encoder (track, step and neighbour tokens, width 128, a 2-layer
# transformer: the plugin's size; the paper's is not in the material available here). One modal
# bridge at the LM's width, the frozen Vicuna-7B, the plugin's multi-hypothesis regression head
# (K = 20); ETH-UCY data from trajectory::eth.py. Not for this CPU.
_base_ = ['trajectory::eth.py', './_base_/vicuna_7b.py']
model = dict(
    modalities=dict(trajectory=dict(
        encoder=dict(embed_dim=128, depth=2, num_heads=4),
        bridge={{_base_.paper_bridge}})),
    language_model={{_base_.paper_language_model}})
