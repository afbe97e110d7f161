"""The SAR modality's prompts: the first is used at evaluation, a random one in training.

The AllSpark paper's own SAR prompt text could not be found in the time available; these are
written for this plugin (short on purpose: every prompt token is a token the frozen language
model reads for every sample, on CPU).
"""
from allspark.models.prompts import register_prompts

register_prompts('sar', [
    'Which vehicle is in this SAR image?',
    'Classify the target in this synthetic aperture radar chip.',
    'What type of military vehicle does this radar image show?',
])
