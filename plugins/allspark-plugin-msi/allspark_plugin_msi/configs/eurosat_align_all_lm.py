# eurosat_align_all.py through the language model (the LaRF way): every modality goes
# encoder -> bridge -> frozen MiniLM (one pass per modality, fusion='separate') -> mean over its
# bridged tokens -> projection.  Same data, loss and budget; the key that differs is `fusion`.
# allspark train msi::eurosat_align_all_lm.py
_base_ = ['msi::eurosat_align_all.py']

fusion = 'separate'
model = dict(fusion=fusion, head=dict(source='bridged', norm='layer'))
