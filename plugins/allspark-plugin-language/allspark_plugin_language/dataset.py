"""Text classification datasets: the aclImdb folder layout and CSV files with text/label columns.

Text files are decoded as UTF-8 (strict).  Encoding fallback (documented policy): a file that is
not valid UTF-8 is decoded with ``encoding_fallback`` (default ``'cp1252'``, the usual legacy
Windows encoding of scraped reviews) and a warning naming the file is logged once; with
``encoding_fallback=None``, or when the fallback cannot decode it either, ``DataError`` names the
file, the byte offset and the encodings tried.
"""
from __future__ import annotations

import csv
import os
import re
import warnings
from typing import Optional, Sequence

from allspark.datasets import BaseDataset, DataError
from allspark.datasets.validation import DropCounter, check_not_empty
from allspark.registry import DATASETS

_IMDB_NAME = re.compile(r'^(\d+)_(\d+)\.txt$')


def decode_text(raw: bytes, path: str, encoding: str = 'utf-8',
                encoding_fallback: Optional[str] = 'cp1252') -> str:
    """Decode ``raw`` (the bytes of ``path``) with ``encoding``, then ``encoding_fallback``."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        first = exc
    if encoding_fallback:
        try:
            text = raw.decode(encoding_fallback)
        except UnicodeDecodeError:
            pass
        else:
            warnings.warn(f'{path}: not valid {encoding} (byte {first.start}); decoded as '
                          f'{encoding_fallback} (encoding_fallback)')
            return text
    tried = [encoding] + ([encoding_fallback] if encoding_fallback else [])
    raise DataError(f'{path}: cannot decode text at byte {first.start} '
                    f'(0x{raw[first.start]:02x}) with {" or ".join(tried)}; expected '
                    f'{encoding} text (set encoding_fallback to the file\'s encoding)')


def _peek(path: str) -> str:
    """A small file's bytes as latin-1 text (never fails): enough to tell an empty review."""
    with open(path, 'rb') as f:
        return f.read().decode('latin-1')


def read_text(path: str, encoding: str = 'utf-8',
              encoding_fallback: Optional[str] = 'cp1252') -> str:
    with open(path, 'rb') as f:
        return decode_text(f.read(), path, encoding, encoding_fallback)


@DATASETS.register_module()
class IMDBDataset(BaseDataset):
    """Large Movie Review Dataset (aclImdb): binary sentiment of movie reviews.

    Format: ``<data_root>/{train,test}/{pos,neg}/<id>_<rating>.txt``, one review per file (raw
    text, ``<br />`` tags kept; add ``TextStripHTML`` to the pipeline to drop them).  Other
    folders (``unsup``) and files are ignored; a ``.txt`` file whose name is not
    ``<id>_<rating>.txt`` is an error.
    Classes: ``neg`` (0, rating <= 4), ``pos`` (1, rating >= 7).
    Splits: ``train``, ``test`` (official: 12,500 + 12,500 each; the shared copy is a balanced
    1,000 + 1,000 subset of each, see its SOURCE.md).
    Samples: ``{'text': str, 'gt_label': int, 'rating': int, 'path': str}``.
    Citation: Maas et al., "Learning Word Vectors for Sentiment Analysis", ACL-HLT 2011.
    """

    MODALITIES = ('text',)
    CLASSES = ('neg', 'pos')

    def __init__(self, *args, encoding: str = 'utf-8',
                 encoding_fallback: Optional[str] = 'cp1252', empty_policy: str = 'error',
                 **kwargs):
        self.encoding, self.encoding_fallback = encoding, encoding_fallback
        # an empty review: 'error' (default, names the file) or 'drop' (left out, counted in
        # self.dropped)
        if empty_policy not in ('error', 'drop'):
            raise ValueError(f"IMDBDataset: empty_policy must be 'error' or 'drop', got "
                             f'{empty_policy!r}')
        self.empty_policy, self.dropped = empty_policy, DropCounter()
        super().__init__(*args, **kwargs)

    @property
    def metainfo(self) -> dict:
        return dict(classes=list(self.CLASSES))

    def load_samples(self) -> list[dict]:
        split_dir = os.path.join(self.data_root, self.split)
        if not os.path.isdir(split_dir):
            raise DataError(f'IMDBDataset: split folder not found: {split_dir} (expected '
                            f'<data_root>/{self.split}/{{pos,neg}}/<id>_<rating>.txt)')
        samples = []
        for label, cls in enumerate(self.CLASSES):
            folder = os.path.join(split_dir, cls)
            if not os.path.isdir(folder):
                raise DataError(f'IMDBDataset: class folder not found: {folder}')
            for name in os.listdir(folder):
                if not name.endswith('.txt'):
                    continue
                m = _IMDB_NAME.match(name)
                if m is None:
                    raise DataError(f'IMDBDataset: {os.path.join(folder, name)}: file name '
                                    f'must be <id>_<rating>.txt')
                path = os.path.join(folder, name)
                if os.path.getsize(path) < 64 and not check_not_empty(  # cheap: tiny files only
                        _peek(path), path, 'text', self.empty_policy, self.dropped):
                    continue
                samples.append(dict(path=path, gt_label=label,
                                    rating=int(m.group(2)), review_id=int(m.group(1))))
        if self.dropped:
            warnings.warn(f'IMDBDataset ({self.split}): {self.dropped.summary()} '
                          f'(empty_policy="drop")')
        if not samples:
            raise DataError(f'IMDBDataset: no <id>_<rating>.txt files under {split_dir}')
        samples.sort(key=lambda s: (s['gt_label'], s['review_id']))
        return samples

    def get_sample(self, index: int) -> dict:
        record = dict(self.samples[index])
        record['text'] = read_text(record['path'], self.encoding, self.encoding_fallback)
        check_not_empty(record['text'], record['path'], 'text')  # emptied since listing
        return record

    def texts_and_labels(self) -> tuple[list[str], list[int]]:
        """All texts (after the pipeline) and labels, for baselines."""
        items = [self[i] for i in range(len(self))]
        return ([it['inputs']['text'] for it in items],
                [int(it['data_samples']['gt_label']) for it in items])


@DATASETS.register_module()
class TextCSVDataset(BaseDataset):
    """Text classification from a CSV file with a header and text/label columns.

    Format: ``<data_root>/<ann_file>`` (default ``<split>.csv``), decoded like the aclImdb
    files (UTF-8, then ``encoding_fallback``).  Labels are class names (mapped through
    ``classes``, default: the sorted distinct labels of the file) or integers ``0..C-1``.
    A missing column, an empty text or an unknown label is an error naming file, line and field.
    Samples: ``{'text': str, 'gt_label': int, 'line': int, 'path': str}``.
    """

    MODALITIES = ('text',)

    def __init__(self, *args, ann_file: Optional[str] = None, text_column: str = 'text',
                 label_column: str = 'label', classes: Optional[Sequence[str]] = None,
                 encoding: str = 'utf-8', encoding_fallback: Optional[str] = 'cp1252', **kwargs):
        self.ann_file, self.text_column, self.label_column = ann_file, text_column, label_column
        self.classes = list(classes) if classes is not None else None
        self.encoding, self.encoding_fallback = encoding, encoding_fallback
        super().__init__(*args, **kwargs)

    @property
    def metainfo(self) -> dict:
        return dict(classes=self.classes)

    def load_samples(self) -> list[dict]:
        path = os.path.join(self.data_root, self.ann_file or f'{self.split}.csv')
        if not os.path.isfile(path):
            raise DataError(f'TextCSVDataset: file not found: {path}')
        text = read_text(path, self.encoding, self.encoding_fallback)
        reader = csv.DictReader(text.splitlines(keepends=True))
        for col in (self.text_column, self.label_column):
            if col not in (reader.fieldnames or []):
                raise DataError(f'{path}: no column {col!r} in the header '
                                f'{reader.fieldnames}; expected columns {self.text_column!r} '
                                f'and {self.label_column!r}')
        rows = []
        for row in reader:
            line = reader.line_num
            text_value, label = row[self.text_column], row[self.label_column]
            if text_value is None or not text_value.strip():
                raise DataError(f'{path}, line {line}: field {self.text_column!r} is empty; '
                                f'expected the text')
            if label is None or not label.strip():
                raise DataError(f'{path}, line {line}: field {self.label_column!r} is empty; '
                                f'expected a class name or index')
            rows.append((line, text_value, label.strip()))
        if not rows:
            raise DataError(f'{path}: no data rows')
        if self.classes is None:
            labels = sorted({r[2] for r in rows})
            self.classes = (labels if not all(lb.isdigit() for lb in labels)
                            else [str(i) for i in range(max(int(lb) for lb in labels) + 1)])
        samples = []
        for line, text_value, label in rows:
            if label in self.classes:
                idx = self.classes.index(label)
            elif label.isdigit() and int(label) < len(self.classes):
                idx = int(label)
            else:
                raise DataError(f'{path}, line {line}: field {self.label_column!r} is '
                                f'{label!r}; expected one of {self.classes} or 0..'
                                f'{len(self.classes) - 1}')
            samples.append(dict(text=text_value, gt_label=idx, line=line, path=path))
        return samples

    def texts_and_labels(self) -> tuple[list[str], list[int]]:
        items = [self[i] for i in range(len(self))]
        return ([it['inputs']['text'] for it in items],
                [int(it['data_samples']['gt_label']) for it in items])
