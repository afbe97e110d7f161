"""Task heads: one file per head; each registers itself in ``HEADS``."""
from allspark.models.heads.alignment import AlignmentHead
from allspark.models.heads.base import BaseHead, select_features, stack_field
from allspark.models.heads.classification import LinearClsHead
from allspark.models.heads.regression import LinearRegHead, SequenceRegHead
from allspark.models.heads.retrieval import RetrievalHead

__all__ = ['BaseHead', 'select_features', 'stack_field', 'LinearClsHead', 'LinearRegHead',
           'SequenceRegHead', 'RetrievalHead', 'AlignmentHead']
