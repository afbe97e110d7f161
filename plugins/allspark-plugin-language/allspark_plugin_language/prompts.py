"""The text modality's prompts: the first (the AllSpark paper's prompt for IMDB sentiment) is
used at evaluation, a random one per training step."""
from allspark.models.prompts import register_prompts

register_prompts('text', [
    'Please determine if this movie review is positive or negative?',
    'Is the sentiment of this movie review positive or negative?',
    'Classify this movie review as positive or negative.',
])
