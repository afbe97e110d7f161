"""The SAR modality's prompts: the first is used at evaluation, a random one in training.

The AllSpark paper's own SAR prompt text could not be found in the time available; these are
written for this plugin (short on purpose: every prompt token is a token the frozen language
model reads for every sample; on CPU the language model is most of the training cost, and
4-word prompts plus 4 bridged tokens make a 10-token sequence instead of 14).
"""
from allspark.models.prompts import register_prompts

register_prompts('sar', [
    'SAR target type?',
    'Which SAR vehicle?',
    'Radar target class?',
])
