# The pivot baseline of eurosat_align_all.py (same model, data and budget): every modality is
# aligned to location only (ImageBind's way; the baseline UniGeoCLIP argues against).
# allspark train msi::eurosat_align_pivot.py
_base_ = ['msi::eurosat_align_all.py']

pivot = 'location'
model = dict(head=dict(pivot=pivot))
