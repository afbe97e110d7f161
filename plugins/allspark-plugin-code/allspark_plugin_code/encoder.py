"""The code and doc modalities have no encoder of their own: like natural-language text, source
code goes straight into the language model through its own tokenizer and word embeddings, i.e.
the core ``TextEncoder`` (``allspark/models/encoders/text.py``).  For retrieval pair it with a
``LinearBridge`` (every word piece reaches the language model); for documentation generation
with a ``PerceiverBridge`` (a fixed-length prefix without padding holes for the decoder).

CodeXGLUE Ruby functions are short (median 48 code tokens, 90th percentile 135); the retrieval
config cuts code to its first 128 word pieces (head truncation) to fit the CPU budget.
"""
from allspark.models.encoders.text import TextEncoder

__all__ = ['TextEncoder']
