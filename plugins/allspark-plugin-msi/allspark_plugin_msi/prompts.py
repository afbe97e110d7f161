"""The ``msi`` modality's prompts: the first is used at evaluation, a random one in training.

The AllSpark paper's exact MSI prompt strings were not found in the time available; these are our
own, in the paper's spirit (say what the data is and what to do with it).
"""
from allspark.models.prompts import register_prompts

register_prompts('msi', [
    'What land cover does this multispectral satellite image show?',
    'Classify the land use in this Sentinel-2 multispectral image.',
    'Which land cover class is this 13-band satellite scene?',
])
