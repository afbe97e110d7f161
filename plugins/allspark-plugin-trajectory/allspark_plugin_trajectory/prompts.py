"""The trajectory modality's prompts (first: evaluation, random one in training).

The AllSpark paper's own trajectory prompt could not be retrieved; these are written for this
plugin in the same spirit (a short task description in natural language).
"""
from allspark.models.prompts import register_prompts

register_prompts('trajectory', [
    'Predict the future path of this pedestrian.',
    'Where will this person walk in the next seconds?',
    'Forecast the next positions of the walking pedestrian.',
])
