"""The location modality's prompts: the first is used at evaluation, a random one in training.

Written for this plugin (no paper prompt exists); short because every prompt token is read by the
frozen language model for every sample.
"""
from allspark.models.prompts import register_prompts

register_prompts('location', [
    'Where is this place?',
    'What is at this location?',
    'Describe these coordinates.',
])
