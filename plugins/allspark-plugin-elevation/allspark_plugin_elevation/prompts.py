"""The elevation modality's prompts: the first is used at evaluation, a random one in training.

Written for this plugin (no paper prompt exists); short because the frozen language model reads
every prompt token for every sample.
"""
from allspark.models.prompts import register_prompts

register_prompts('elevation', [
    'What terrain is this?',
    'Describe this landscape.',
    'Where is this terrain?',
])
