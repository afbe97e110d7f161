"""The table modality's prompts: the first is used at evaluation, a random one in training.

The AllSpark paper's own table prompts could not be found in the material available here, so
these are our own wording (short: every prompt token goes through the language model)."""
from allspark.models.prompts import register_prompts

register_prompts('table', [
    'Estimate the PM2.5 concentration from this air quality record.',
    'How much fine particulate matter does this row of measurements indicate?',
    'Predict the target value of this table row.',
])
