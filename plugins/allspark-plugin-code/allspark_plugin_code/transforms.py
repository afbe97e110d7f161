"""Code/documentation transforms (strings in, strings out)."""
import re

from allspark.datasets.transforms import BaseTransform
from allspark.registry import TRANSFORMS


@TRANSFORMS.register_module()
class CodeTruncateChars(BaseTransform):
    """Cut ``key`` to its first ``max_chars`` characters before tokenisation (very long functions
    otherwise cost tokenizer time for tokens the ``TextEncoder`` drops anyway)."""

    def __init__(self, max_chars: int = 4000, keys: str = 'code'):
        super().__init__(keys, single=True)
        self.max_chars = max_chars

    def transform(self, sample: dict) -> dict:
        sample[self.key] = sample[self.key][:self.max_chars]
        return sample


_SENTENCE_END = re.compile(r'(?<=[.!?])\s')


@TRANSFORMS.register_module()
class DocFirstSentence(BaseTransform):
    """Keep the first sentence of the documentation (the usual summary-generation target)."""

    def __init__(self, keys: str = 'doc'):
        super().__init__(keys, single=True)

    def transform(self, sample: dict) -> dict:
        text = ' '.join(sample[self.key].split())
        sample[self.key] = _SENTENCE_END.split(text, maxsplit=1)[0]
        return sample
