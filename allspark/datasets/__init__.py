"""Dataset base class, collation, generic transforms and the synthetic quickstart data."""
from allspark.datasets.base import BaseDataset, DataError, allspark_collate

__all__ = ['BaseDataset', 'DataError', 'allspark_collate']
