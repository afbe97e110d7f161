"""The graph modality's prompts (first: evaluation, random one in training).

The AllSpark paper's own graph prompt could not be retrieved; these are written for this plugin
in the same spirit (a short task description in natural language).
"""
from allspark.models.prompts import register_prompts

register_prompts('graph', [
    'Forecast the traffic speed of every road sensor for the next hour.',
    'Predict the future traffic speed at each node of this road network.',
    'How fast will traffic move at each sensor in the coming hour?',
])
