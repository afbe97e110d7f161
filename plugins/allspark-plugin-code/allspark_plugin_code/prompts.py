"""Prompts of the code and doc modalities.  The AllSpark paper's prompts for code were not found,
so these are our own: the first is used at evaluation, a random one per training step.  The
retrieval config (``code::ruby.py``) turns prompts off for both modalities, to start from
the language model's own sentence-embedding space; the captioning config uses them."""
from allspark.models.prompts import register_prompts

register_prompts('code', [
    'Please generate the documentation of this function.',
    'Describe what this code does.',
    'Summarize this function in one sentence.',
])
register_prompts('doc', [
    'Find the function that this documentation describes.',
    'Which code does this description document?',
])
