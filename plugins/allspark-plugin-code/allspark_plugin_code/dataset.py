"""``CodeSearchNetDataset``: CodeSearchNet / CodeXGLUE JSON Lines, plain or gzip-compressed."""
from __future__ import annotations

import gzip
import json
import os
import random
from collections import Counter
from typing import Optional

from allspark.datasets import BaseDataset, DataError
from allspark.registry import DATASETS


def _as_text(value, path: str, lineno: int, field: str) -> str:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = ' '.join(value)
    if not isinstance(value, str):
        raise DataError(f'{path}, line {lineno}: field {field!r} is {type(value).__name__}; '
                        f'expected a string (or a list of token strings)')
    if not value.strip():
        raise DataError(f'{path}, line {lineno}: field {field!r} is empty; expected text')
    return value


def read_jsonl(path: str) -> list[tuple[int, dict]]:
    """``[(line number, record)]`` of a ``.jsonl`` or ``.jsonl.gz`` file (blank lines skipped).

    A line that is not UTF-8 or not a JSON object raises ``DataError`` naming file and line."""
    opener = gzip.open if path.endswith('.gz') else open
    records = []
    try:
        with opener(path, 'rb') as f:
            for lineno, raw in enumerate(f, 1):
                if not raw.strip():
                    continue
                try:
                    line = raw.decode('utf-8')
                except UnicodeDecodeError as exc:
                    raise DataError(f'{path}, line {lineno}: not UTF-8 text (byte {exc.start} '
                                    f'of the line); expected UTF-8 JSON Lines') from None
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f'{path}, line {lineno}: not valid JSON ({exc.msg} at '
                                    f'column {exc.colno}); expected one JSON object per '
                                    f'line') from None
                if not isinstance(record, dict):
                    raise DataError(f'{path}, line {lineno}: a JSON {type(record).__name__}; '
                                    f'expected one JSON object per line')
                records.append((lineno, record))
    except (OSError, EOFError) as exc:  # truncated/corrupt gzip
        if isinstance(exc, FileNotFoundError):
            raise DataError(f'CodeSearchNetDataset: file not found: {path}') from None
        raise DataError(f'{path}: cannot read ({exc}); expected JSON Lines, plain or '
                        f'gzip-compressed') from None
    return records


def holdout_split(keys: list[str], num_train: int, seed: int = 0) -> set[str]:
    """Groups (e.g. repositories) for the training part: groups shuffled with
    ``random.Random(seed)``, taken while the training part stays <= ``num_train`` records.
    Every other group is held out, so no repository is on both sides."""
    sizes = Counter(keys)
    groups = sorted(sizes)
    random.Random(seed).shuffle(groups)
    train, count = set(), 0
    for g in groups:
        if count + sizes[g] <= num_train:
            train.add(g)
            count += sizes[g]
    return train


@DATASETS.register_module()
class CodeSearchNetDataset(BaseDataset):
    """CodeSearchNet (Husain et al., arXiv:1909.09436) in the CodeXGLUE code-to-text release
    (Lu et al., NeurIPS Datasets and Benchmarks 2021).

    Format: JSON Lines, one function per line, plain ``.jsonl`` or ``.jsonl.gz``; fields used:
    ``code`` (or ``code_tokens``), ``docstring`` (or ``docstring_tokens``), ``language``, and
    ``repo``/``func_name``/``url`` as metadata.  Token-list fields are joined with spaces.
    Files: ``<data_root>/<ann_file>``; by default ``<split>.jsonl[.gz]`` (``val`` also finds
    CodeXGLUE's ``valid.jsonl``); ``data_root`` may also be the file itself.
    Splits: the file's own (train/valid/test), or, with ``holdout=dict(num_train, seed,
    group_by='repo')``, one file cut into a ``train`` part of at most ``num_train`` records and
    a disjoint ``test`` part (whole repositories on one side, seeded; see ``holdout_split``).
    Samples: ``{'code': str, 'doc': str, 'repo', 'func_name', 'url', 'line', 'path'}``;
    modalities ``('code', 'doc')`` (retrieval) or ``modalities=['code']`` (captioning: ``doc``
    stays a target in the data sample).
    ``sort_by_length=True`` orders the records by code length (evaluation: batches then need
    little padding; retrieval metrics do not depend on the order).
    Bad input: a line that is not JSON, not an object, or lacks a field raises ``DataError``
    naming the file and line number.
    """

    MODALITIES = ('code', 'doc')

    def __init__(self, *args, ann_file: Optional[str] = None, code_field: str = 'code',
                 doc_field: str = 'docstring', language: Optional[str] = None,
                 holdout: Optional[dict] = None, sort_by_length: bool = False, **kwargs):
        self.ann_file, self.code_field, self.doc_field = ann_file, code_field, doc_field
        self.sort_by_length = sort_by_length
        self.language, self.holdout = language, holdout
        super().__init__(*args, **kwargs)

    def _path(self) -> str:
        if os.path.isfile(self.data_root):
            return self.data_root
        if self.ann_file:
            return os.path.join(self.data_root, self.ann_file)
        names = [self.split] + (['valid'] if self.split == 'val' else [])
        for name in names:
            for ext in ('.jsonl', '.jsonl.gz'):
                path = os.path.join(self.data_root, name + ext)
                if os.path.isfile(path):
                    return path
        raise DataError(f'CodeSearchNetDataset: no {"/".join(names)}.jsonl[.gz] in '
                        f'{self.data_root}')

    def load_samples(self) -> list[dict]:
        path = self._path()
        samples = []
        for lineno, rec in read_jsonl(path):
            for field in (self.code_field, self.doc_field):
                if field not in rec:
                    raise DataError(f'{path}, line {lineno}: no field {field!r} (has '
                                    f'{sorted(rec)[:12]}); expected CodeSearchNet fields')
            if self.language and rec.get('language') != self.language:
                raise DataError(f'{path}, line {lineno}: field \'language\' is '
                                f'{rec.get("language")!r}; expected {self.language!r}')
            samples.append(dict(code=_as_text(rec[self.code_field], path, lineno, self.code_field),
                                doc=_as_text(rec[self.doc_field], path, lineno, self.doc_field),
                                repo=str(rec.get('repo', '')),
                                func_name=str(rec.get('func_name', '')),
                                url=str(rec.get('url', '')), line=lineno, path=path))
        if not samples:
            raise DataError(f'{path}: no records')
        if self.holdout is not None:
            if self.split not in ('train', 'test', 'all'):
                raise ValueError(f"CodeSearchNetDataset: with holdout, split must be 'train', "
                                 f"'test' or 'all', got {self.split!r}")
            if self.split != 'all':
                key = self.holdout.get('group_by', 'repo')
                keys = [s[key] if key else str(i) for i, s in enumerate(samples)]
                train = holdout_split(keys, int(self.holdout['num_train']),
                                      int(self.holdout.get('seed', 0)))
                samples = [s for s, k in zip(samples, keys)
                           if (k in train) == (self.split == 'train')]
        if self.sort_by_length:
            samples.sort(key=lambda s: len(s['code']))
        return samples

    def get_sample(self, index: int) -> dict:
        return dict(self.samples[index])

    def pairs(self) -> tuple[list[str], list[str]]:
        """``(codes, docs)`` after the pipeline, for baselines."""
        items = [self.pipeline(self.get_sample(i)) for i in range(len(self))]
        return [it['code'] for it in items], [it['doc'] for it in items]
