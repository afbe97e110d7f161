"""Text transforms (strings in, strings out)."""
import re

from allspark.datasets.transforms import BaseTransform
from allspark.registry import TRANSFORMS

_TAG = re.compile(r'<[^>]{0,40}>')
_SPACE = re.compile(r'\s+')


@TRANSFORMS.register_module()
class TextStripHTML(BaseTransform):
    """Replace HTML tags (aclImdb keeps ``<br />`` in the raw reviews) by a space and collapse
    runs of whitespace, so the tag pieces do not take truncation budget."""

    def __init__(self, keys: str = 'text'):
        super().__init__(keys, single=True)

    def transform(self, sample: dict) -> dict:
        sample[self.key] = _SPACE.sub(' ', _TAG.sub(' ', sample[self.key])).strip()
        return sample
