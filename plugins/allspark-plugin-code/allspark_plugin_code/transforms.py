"""Code/documentation transforms (strings in, strings out)."""
import re

from allspark.registry import TRANSFORMS


@TRANSFORMS.register_module()
class CodeTruncateChars:
    """Cut ``key`` to its first ``max_chars`` characters before tokenisation (very long functions
    otherwise cost tokenizer time for tokens the ``TextEncoder`` drops anyway)."""

    def __init__(self, max_chars: int = 4000, key: str = 'code'):
        self.max_chars, self.key = max_chars, key

    def __call__(self, sample: dict) -> dict:
        sample[self.key] = sample[self.key][:self.max_chars]
        return sample


_SENTENCE_END = re.compile(r'(?<=[.!?])\s')


@TRANSFORMS.register_module()
class DocFirstSentence:
    """Keep the first sentence of the documentation (the usual summary-generation target)."""

    def __init__(self, key: str = 'doc'):
        self.key = key

    def __call__(self, sample: dict) -> dict:
        text = ' '.join(sample[self.key].split())
        sample[self.key] = _SENTENCE_END.split(text, maxsplit=1)[0]
        return sample
