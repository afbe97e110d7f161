"""The ``rgb`` modality's prompts: the first is used at evaluation, a random one in training.

The AllSpark paper's exact RGB prompt strings were not found in the time available; these are our
own, in the paper's spirit (say what the data is and what to do with it).
"""
from allspark.models.prompts import register_prompts

register_prompts('rgb', [
    'What type of scene does this aerial RGB image show?',
    'Classify the land-use scene in this overhead RGB image.',
    'Which scene category is this remote sensing image?',
])
