# The AllSpark paper's SAR setup (Table XV: 7452.58M total, 976.31M trainable): the paper's
# "simple three-layer convolutional encoder" (SAR plugin, the widths and kernels of its full
# sar::mstar.py config: 64-128-256, 7-5-5, stride 2: (B, 1, 88, 88) -> (B, 121, 256)). One modal
# bridge at the LM's width, the frozen Vicuna-7B, a linear head; MSTAR data. Not for this CPU.
_base_ = ['sar::mstar.py', './_base_/vicuna_7b.py']
model = dict(
    modalities=dict(sar=dict(
        encoder=dict(widths=(64, 128, 256), kernel_sizes=(7, 5, 5), pool='stride'),
        bridge={{_base_.paper_bridge}})),
    language_model={{_base_.paper_language_model}})
