"""The hsi modality's prompts: the first is used at evaluation, a random one in training.

The AllSpark paper's own HSI prompts could not be found in the material available here, so these
are our own wording, kept short (every prompt token goes through the language model)."""
from allspark.models.prompts import register_prompts

register_prompts('hsi', [
    'Classify this pixel spectrum.',
    'What land cover does this hyperspectral pixel show?',
    'Which crop class has this reflectance spectrum?',
])
