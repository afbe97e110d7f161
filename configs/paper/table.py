# The AllSpark paper's table setup (Table XV: 7486.67M total, 1010.40M trainable): the table
# plugin's TabFormer-style encoder (one token per column, 16 columns, one transformer layer as
# TabFormer's field-level encoder; width 64 is the plugin's, the paper's is not in the material
# available here). One modal bridge at the LM's width, the frozen Vicuna-7B, a linear regression
# head; Beijing PRSA air-quality data from table::prsa.py. Not for this CPU.
_base_ = ['table::prsa.py', './_base_/vicuna_7b.py']
model = dict(
    modalities=dict(table=dict(
        encoder=dict(embed_dim=64, depth=1, num_heads=4, ffn_ratio=2.0),
        bridge={{_base_.paper_bridge}})),
    language_model={{_base_.paper_language_model}},
    # the paper prompts every modality (its Table XVI); the plugin's CPU config switched the
    # prompt off (prompts=dict(table=[])), this restores the plugin's registered prompts
    prompts=dict(_delete_=True))
