# eurosat_align_all.py through the language model (the LaRF way): every modality goes
# encoder -> bridge -> frozen MiniLM (one pass per modality, fusion='separate') -> mean over its
# bridged tokens -> projection.  Same data, loss and budget; the key that differs is `fusion`.
# allspark train msi::eurosat_align_all_lm.py
_base_ = ['msi::eurosat_align_all.py']

fusion = 'separate'
model = dict(fusion=fusion, head=dict(source='bridged', norm='layer'))
# float32: the bf16 comparison of this LM path was not run (precision_auto comes with
# msi::eurosat_align_all.py, whose direct path it was measured on)
optim_wrapper = dict(enabled=False)
val_cfg = dict(fp16=False)
test_cfg = dict(fp16=False)
