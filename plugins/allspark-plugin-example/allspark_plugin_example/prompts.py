"""The signal modality's prompts: the first is used at evaluation, a random one in training."""
from allspark.models.prompts import register_prompts

register_prompts('signal', [
    'What kind of waveform is this signal?',
    'Name the shape of this periodic signal.',
])
