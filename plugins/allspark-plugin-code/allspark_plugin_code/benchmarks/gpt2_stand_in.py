"""A GPT-2-sized stand-in for profiling ``code::ruby_caption.py`` without GPT-2's weights.

    python -m allspark_plugin_code.benchmarks.gpt2_stand_in --out work_dirs/gpt2_stand_in
        [--data-root ../shared/data/codesearchnet/ruby]

``ruby_caption.py`` reads GPT-2 (124M) from the hub, which this project's machines cannot reach.
Speed and FLOPs do not depend on the weights' values, only on the architecture and on how many
tokens the model reads, so this writes what ``allspark benchmark`` needs to time the config:

- a byte-level BPE tokenizer trained on the CodeSearchNet file's code and documentation (GPT-2's
  own tokenizer is part of the hub download); it is fitted to this corpus, so it cuts the
  documentation into about as many or fewer tokens than GPT-2's would;
- the ``--cfg-options`` that build GPT-2's architecture with random weights (``from_config``:
  12 layers, width 768, 12 heads, 1,024 positions, GPT-2's vocabulary size of 50,257 so that the
  output projection costs what GPT-2's does).

The figures it gives are timings only: accuracy needs the real weights.
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Optional, Sequence

GPT2_VOCAB_SIZE = 50257


def read_texts(jsonl: str) -> list[str]:
    """Code and documentation strings of a CodeSearchNet ``.jsonl`` file."""
    texts = []
    with open(jsonl) as f:
        for line_no, line in enumerate(f, 1):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f'{jsonl}: line {line_no} is not JSON ({exc})') from exc
            texts += [rec.get(k) for k in ('code', 'docstring') if isinstance(rec.get(k), str)]
    if not texts:
        raise ValueError(f'{jsonl}: no "code" or "docstring" strings found')
    return texts


def write_stand_in(data_root: str, out: str) -> list[str]:
    """Trains and saves the tokenizer under ``out``; returns the ``--cfg-options`` items."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2TokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(read_texts(os.path.join(data_root, 'test.jsonl')),
                            vocab_size=GPT2_VOCAB_SIZE, min_frequency=2,
                            special_tokens=['<|endoftext|>'])
    tok = GPT2TokenizerFast(tokenizer_object=bpe._tokenizer, bos_token='<|endoftext|>',
                            eos_token='<|endoftext|>', unk_token='<|endoftext|>')
    tok.save_pretrained(out)
    prefix = 'model.language_model.from_config'
    return [f'{prefix}.model_type=gpt2', f'{prefix}.vocab_size={GPT2_VOCAB_SIZE}',
            f'{prefix}.n_layer=12', f'{prefix}.n_embd=768', f'{prefix}.n_head=12',
            f'{prefix}.n_positions=1024', f'{prefix}.tokenizer={os.path.abspath(out)}']


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data-root', default='../shared/data/codesearchnet/ruby')
    p.add_argument('--out', required=True, help='folder for the tokenizer')
    args = p.parse_args(argv)
    options = write_stand_in(args.data_root, args.out)
    print('allspark benchmark code::ruby_caption.py --cfg-options ' + ' '.join(options))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
