"""The point cloud modality's prompts (the first is used at evaluation, a random one in training).

The AllSpark paper's point cloud prompt was not found in the time available; these follow the
style of its published prompts ("Please determine if this movie review is positive or
negative?")."""
from allspark.models.prompts import register_prompts

register_prompts('pointcloud', [
    'Please determine the category of the object in this point cloud.',
    'What kind of object does this 3D point cloud show?',
    'Classify the shape of this point cloud.',
])
