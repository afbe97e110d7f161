"""Code plugin: CodeSearchNet jsonl(.gz) reader, bad lines, holdout split, retrieval config end to
end (tiny BERT), documentation generation with a tiny random GPT-2."""
import gzip
import json
import os

import pytest

from allspark import plugins
from allspark.config import load_config
from allspark.datasets import DataError
from allspark.testing import run_smoke_training

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
FUNCS = [
    ('def add(a, b)\n  a + b\nend', 'Returns the sum of two numbers.'),
    ('def greet(name)\n  "Hello #{name}"\nend', 'Builds a greeting for a name.'),
    ('def empty?(list)\n  list.size == 0\nend', 'Checks whether the list is empty.'),
    ('def max_of(xs)\n  xs.max\nend', 'Finds the largest element.'),
    ('def save(record)\n  record.save!\nend', 'Saves the record to the database.'),
    ('def to_json_string(obj)\n  obj.to_json\nend', 'Serialises an object as JSON.'),
]


def record(i):
    code, doc = FUNCS[i % len(FUNCS)]
    return dict(repo=f'owner/repo{i % 4}', path='lib/x.rb', func_name=f'X.f{i}',
                original_string=code, language='ruby', code=code, code_tokens=code.split(),
                docstring=doc, docstring_tokens=doc.rstrip('.').split(), sha='0' * 40,
                url=f'https://github.com/owner/repo{i % 4}/blob/x#L{i}', partition='test')


def write_jsonl(path, n=12, gz=False):
    lines = ''.join(json.dumps(record(i)) + '\n' for i in range(n))
    if gz:
        with gzip.open(path, 'wt', encoding='utf-8') as f:
            f.write(lines)
    else:
        with open(path, 'w', encoding='utf-8') as f:
            f.write(lines)
    return str(path)


@pytest.fixture(scope='module')
def loaded():
    plugins.load_plugins()
    from mmengine.registry import DefaultScope
    if not DefaultScope.check_instance_created('code_test'):
        DefaultScope.get_instance('code_test', scope_name='allspark')
    rec = plugins.get_record('code')
    assert rec is not None and rec.status == 'ok', rec
    return rec


def build(**kw):
    from allspark.registry import DATASETS
    return DATASETS.build(dict(type='CodeSearchNetDataset', **kw))


def test_code_reader_plain_gz_and_holdout(tmp_path, loaded):
    write_jsonl(tmp_path / 'test.jsonl')
    write_jsonl(tmp_path / 'train.jsonl.gz', gz=True)
    plain = build(data_root=str(tmp_path), split='test')
    gz = build(data_root=str(tmp_path), split='train')
    assert len(plain) == len(gz) == 12
    assert plain[0]['inputs'] == gz[0]['inputs'] == {'code': FUNCS[0][0], 'doc': FUNCS[0][1]}
    toks = build(data_root=str(tmp_path), split='test', code_field='code_tokens',
                 doc_field='docstring_tokens', language='ruby')
    assert toks[0]['inputs']['doc'] == 'Returns the sum of two numbers'
    hold = dict(num_train=4, seed=0, group_by='repo')
    tr = build(data_root=str(tmp_path), ann_file='test.jsonl', holdout=hold, split='train')
    te = build(data_root=str(tmp_path), ann_file='test.jsonl', holdout=hold, split='test')
    assert len(tr) + len(te) == 12 and 0 < len(tr) <= 4
    assert not {s['repo'] for s in tr.samples} & {s['repo'] for s in te.samples}
    srt = build(data_root=str(tmp_path), ann_file='test.jsonl', holdout=hold, split='test',
                sort_by_length=True)
    assert sorted(s['url'] for s in srt.samples) == sorted(s['url'] for s in te.samples)
    lengths = [len(s['code']) for s in srt.samples]
    assert lengths == sorted(lengths)
    cap = build(data_root=str(tmp_path), split='test', modalities=['code'],
                pipeline=[dict(type='DocFirstSentence'), dict(type='CodeTruncateChars',
                                                              max_chars=10)])
    item = cap[0]
    assert list(item['inputs']) == ['code'] and len(item['inputs']['code']) == 10
    assert item['data_samples']['doc'] == FUNCS[0][1]


@pytest.mark.parametrize('gz', [False, True])
def test_code_bad_json_line_names_file_and_line(tmp_path, loaded, gz):
    lines = [json.dumps(record(0)), json.dumps(record(1)), '{"code": "def x", "docstring": ',
             json.dumps(record(2))]
    name = 'test.jsonl.gz' if gz else 'test.jsonl'
    text = '\n'.join(lines) + '\n'
    if gz:
        with gzip.open(tmp_path / name, 'wt') as f:
            f.write(text)
    else:
        (tmp_path / name).write_text(text)
    with pytest.raises(DataError, match=rf'{name.replace(".", r"[.]")}, line 3: not valid JSON'):
        build(data_root=str(tmp_path), split='test')


def test_code_bad_records(tmp_path, loaded):
    bad = dict(record(0))
    del bad['docstring']
    (tmp_path / 'a.jsonl').write_text(json.dumps(record(1)) + '\n' + json.dumps(bad) + '\n')
    with pytest.raises(DataError, match=r"a[.]jsonl, line 2: no field 'docstring'"):
        build(data_root=str(tmp_path), ann_file='a.jsonl')
    (tmp_path / 'b.jsonl').write_text('[1, 2]\n')
    with pytest.raises(DataError, match=r'b[.]jsonl, line 1: a JSON list'):
        build(data_root=str(tmp_path), ann_file='b.jsonl')
    (tmp_path / 'c.jsonl').write_text(json.dumps(dict(record(0), code='  ')) + '\n')
    with pytest.raises(DataError, match=r"c[.]jsonl, line 1: field 'code' is empty"):
        build(data_root=str(tmp_path), ann_file='c.jsonl')
    (tmp_path / 'd.jsonl').write_bytes(json.dumps(record(0)).encode() + b'\n{"code": "\xff"}\n')
    with pytest.raises(DataError, match=r'd[.]jsonl, line 2: not UTF-8'):
        build(data_root=str(tmp_path), ann_file='d.jsonl')
    with pytest.raises(DataError, match=r"line 1: field 'language' is 'ruby'; expected 'go'"):
        build(data_root=str(tmp_path), ann_file='a.jsonl', language='go')


def test_code_bleu():
    from allspark_plugin_code.metrics import sentence_bleu
    assert sentence_bleu('Returns the sum of two numbers.', 'Returns the sum of two numbers.') \
        == pytest.approx(1.0)
    assert 0 < sentence_bleu('Returns the sum of two numbers', 'Returns the sum') < 0.5
    assert sentence_bleu('Returns the sum', 'zzz') == 0.0


def test_code_ruby_retrieval_config_end_to_end(tmp_path, loaded):
    data = write_jsonl(tmp_path / 'test.jsonl', n=16)
    opts = {f'{k}.dataset.data_root': str(tmp_path)
            for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')}
    opts.update({f'{k}.dataset.holdout.num_train': 8
                 for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')})
    metrics = run_smoke_training('code::ruby.py',
                                 str(tmp_path / 'work'), max_iters=3, batch_size=4,
                                 cfg_options=opts)
    assert os.path.exists(data)
    assert 0.0 < metrics['mrr'] <= 1.0 and 'mrr_1v7' in metrics  # 8 held-out: 7 distractors


@pytest.fixture(scope='module')
def tiny_gpt2_tokenizer(tmp_path_factory):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2TokenizerFast

    bpe = ByteLevelBPETokenizer()
    corpus = [c + ' ' + d for c, d in FUNCS] * 4
    bpe.train_from_iterator(corpus, vocab_size=320, min_frequency=1,
                            special_tokens=['<|endoftext|>'])
    tok = GPT2TokenizerFast(tokenizer_object=bpe._tokenizer, bos_token='<|endoftext|>',
                            eos_token='<|endoftext|>', unk_token='<|endoftext|>')
    folder = str(tmp_path_factory.mktemp('tiny_gpt2_tok'))
    tok.save_pretrained(folder)
    return folder, len(tok)


def test_code_caption_with_tiny_gpt2(tmp_path, loaded, tiny_gpt2_tokenizer):
    folder, vocab = tiny_gpt2_tokenizer
    write_jsonl(tmp_path / 'test.jsonl', n=16)
    cfg = load_config('code::ruby_caption.py')
    cfg.model.language_model = dict(
        type='HFLanguageModel', from_config=dict(model_type='gpt2', n_layer=2, n_embd=32,
                                                 n_head=2, vocab_size=vocab, n_positions=256,
                                                 tokenizer=folder))
    cfg.model.modalities.code.encoder.max_length = 64
    cfg.model.head.max_new_tokens = 6
    for k in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[k].dataset.data_root = str(tmp_path)
        cfg[k].dataset.holdout.num_train = 8
    metrics = run_smoke_training(cfg, str(tmp_path / 'work'), max_iters=3, batch_size=4,
                                 tiny_lm=False)
    # 3 steps of a random 2-layer GPT-2 learn nothing: this checks that training, decoding and
    # scoring run end to end (the head's loss, gradients and generation are checked below)
    assert isinstance(metrics['bleu4'], float) and metrics['bleu4'] == metrics['bleu4']

    # the head itself: teacher-forced loss is finite and has gradients; generation gives text
    import torch

    from allspark.registry import MODELS
    model = MODELS.build(cfg.model.to_dict())
    batch = dict(inputs={'code': [FUNCS[0][0], FUNCS[1][0]]},
                 data_samples=[{'doc': FUNCS[0][1]}, {'doc': FUNCS[1][1]}])
    losses = model(batch['inputs'], batch['data_samples'], mode='loss')
    assert torch.isfinite(losses['loss_caption'])
    losses['loss_caption'].backward()
    assert model.bridges['code'].queries.grad is not None
    model.eval()
    preds = model(batch['inputs'], batch['data_samples'], mode='predict')
    assert all(isinstance(p['pred_text'], str) for p in preds)


def test_code_caption_head_refuses_an_encoder_only_model(loaded):
    from allspark.registry import MODELS
    from allspark.testing import tiny_language_model_cfg
    cfg = load_config('code::ruby_caption.py')
    cfg.model.language_model = tiny_language_model_cfg()
    with pytest.raises(ValueError, match='needs a causal language model'):
        MODELS.build(cfg.model.to_dict())


def test_gpt2_stand_in_for_profiling(tmp_path, loaded):
    """The profiling stand-in: a tokenizer fitted to the file, options that build GPT-2's
    architecture (random weights) for ``ruby_caption.py``; a bad line names the file."""
    from mmengine.config import Config

    from allspark_plugin_code.benchmarks.gpt2_stand_in import GPT2_VOCAB_SIZE, main, write_stand_in
    write_jsonl(tmp_path / 'test.jsonl', n=12)
    options = write_stand_in(str(tmp_path), str(tmp_path / 'tok'))
    cfg = load_config('code::ruby_caption.py')
    cfg.merge_from_dict(dict(o.split('=', 1) for o in options))
    lm = Config(cfg.model.language_model).to_dict()
    assert lm['from_config']['model_type'] == 'gpt2'
    assert int(lm['from_config']['vocab_size']) == GPT2_VOCAB_SIZE
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(lm['from_config']['tokenizer'])
    assert tok.decode(tok('Returns the sum.')['input_ids']) == 'Returns the sum.'
    (tmp_path / 'bad').mkdir()
    (tmp_path / 'bad' / 'test.jsonl').write_text('{"code": "x"}\nnot json\n')
    with pytest.raises(ValueError, match=r'bad/test.jsonl: line 2'):
        main(['--data-root', str(tmp_path / 'bad'), '--out', str(tmp_path / 'tok2')])
