"""Language plugin: aclImdb and CSV readers, encoding policy, truncation, config end to end."""
import os
import warnings

import pytest

from allspark import plugins
from allspark.datasets import DataError
from allspark.testing import run_smoke_training

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
CONFIG = 'language::imdb.py'

POS = ['A wonderful film, great acting and a moving story.<br /><br />Loved it.',
       'Brilliant and funny; one of the best movies this year.',
       'Superb direction, I would watch it again.']
NEG = ['Terrible plot, awful acting, a waste of time.',
       'Boring and far too long.<br />I walked out.',
       'The worst movie I have seen: dull and stupid.']


def write_imdb(root, per_class=3):
    for split in ('train', 'test'):
        for cls, texts, rating in (('pos', POS, 9), ('neg', NEG, 2)):
            folder = os.path.join(root, split, cls)
            os.makedirs(folder, exist_ok=True)
            for i in range(per_class):
                with open(os.path.join(folder, f'{i}_{rating}.txt'), 'w', encoding='utf-8') as f:
                    f.write(texts[i % len(texts)] + (' café' if i == 0 else ''))
    return str(root)


@pytest.fixture(scope='module')
def loaded():
    plugins.load_plugins()
    from mmengine.registry import DefaultScope
    if not DefaultScope.check_instance_created('language_test'):
        DefaultScope.get_instance('language_test', scope_name='allspark')
    rec = plugins.get_record('language')
    assert rec is not None and rec.status == 'ok', rec
    return rec


def build(cfg):
    from allspark.registry import DATASETS
    return DATASETS.build(cfg)


def test_language_plugin_registers(loaded):
    assert {'IMDBDataset', 'TextCSVDataset'} <= set(loaded.registered['dataset'])
    from allspark.models.prompts import DEFAULT_PROMPTS
    assert DEFAULT_PROMPTS['text'][0] == ('Please determine if this movie review is positive '
                                          'or negative?')


def test_language_imdb_reader(tmp_path, loaded):
    root = write_imdb(tmp_path / 'aclImdb')
    ds = build(dict(type='IMDBDataset', data_root=root, split='train',
                    pipeline=[dict(type='TextStripHTML')]))
    assert len(ds) == 6 and ds.metainfo['classes'] == ['neg', 'pos']
    item = ds[5]
    assert item['data_samples']['gt_label'] == 1 and item['data_samples']['rating'] == 9
    texts, labels = ds.texts_and_labels()
    assert sorted(labels) == [0, 0, 0, 1, 1, 1]
    assert not any('<br' in t for t in texts) and any('café' in t for t in texts)
    os.makedirs(tmp_path / 'aclImdb' / 'train' / 'pos' / 'x', exist_ok=True)  # folders ignored
    (tmp_path / 'aclImdb' / 'train' / 'pos' / 'review.txt').write_text('no rating')
    with pytest.raises(DataError, match=r'review\.txt.*<id>_<rating>\.txt'):
        build(dict(type='IMDBDataset', data_root=root, split='train'))
    with pytest.raises(DataError, match='split folder not found'):
        build(dict(type='IMDBDataset', data_root=root, split='val'))


def test_language_undecodable_text(tmp_path, loaded):
    root = write_imdb(tmp_path / 'aclImdb')
    bad = os.path.join(root, 'test', 'neg', '7_1.txt')
    with open(bad, 'wb') as f:
        f.write(b'Awful film, na\xefve plot.')  # cp1252 / latin-1 bytes, not UTF-8
    ds = build(dict(type='IMDBDataset', data_root=root, split='test'))
    index = [i for i, s in enumerate(ds.samples) if s['path'] == bad][0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        assert ds[index]['inputs']['text'] == 'Awful film, naïve plot.'
    assert any('7_1.txt' in str(w.message) and 'cp1252' in str(w.message) for w in caught)
    strict = build(dict(type='IMDBDataset', data_root=root, split='test',
                        encoding_fallback=None))
    with pytest.raises(DataError, match=r'7_1\.txt.*byte 14.*utf-8'):
        strict[index]
    with open(bad, 'wb') as f:
        f.write(b'\x81\x8d not text in any of the two')  # undefined in cp1252 too
    with pytest.raises(DataError, match=r'7_1\.txt.*utf-8 or cp1252'):
        ds[index]


def test_language_csv_reader(tmp_path, loaded):
    path = tmp_path / 'train.csv'
    path.write_text('id,text,label\n1,"Great, moving film",pos\n2,"Dull, long",neg\n'
                    '3,"Loved it",pos\n', encoding='utf-8')
    ds = build(dict(type='TextCSVDataset', data_root=str(tmp_path), split='train'))
    assert ds.classes == ['neg', 'pos'] and len(ds) == 3
    assert ds[0]['inputs']['text'] == 'Great, moving film'
    assert ds[0]['data_samples']['gt_label'] == 1
    (tmp_path / 'bad.csv').write_text('review,label\nfine,pos\n')
    with pytest.raises(DataError, match=r"bad\.csv.*no column 'text'"):
        build(dict(type='TextCSVDataset', data_root=str(tmp_path), ann_file='bad.csv'))
    (tmp_path / 'lab.csv').write_text('text,label\nfine,pos\nmeh,maybe\n')
    with pytest.raises(DataError, match=r"lab\.csv, line 3: field 'label' is 'maybe'"):
        build(dict(type='TextCSVDataset', data_root=str(tmp_path), ann_file='lab.csv',
                   classes=['neg', 'pos']))
    (tmp_path / 'enc.csv').write_bytes(b'text,label\n\x81\x8d,pos\n')
    with pytest.raises(DataError, match=r'enc\.csv.*cannot decode'):
        build(dict(type='TextCSVDataset', data_root=str(tmp_path), ann_file='enc.csv'))


def test_language_head_tail_truncation_keeps_the_end(tiny_lm_dir_language):
    from allspark.models.encoders.text import TextEncoder
    from allspark.models.language_model import HFLanguageModel
    from allspark_plugin_language.encoder import truncate_text

    lm = HFLanguageModel(name_or_path=tiny_lm_dir_language)
    text = 'beginning ' + 'filler ' * 100 + 'verdict terrible'
    for trunc, has_end in (('head', False), ('head_tail', True)):
        enc = TextEncoder(max_length=16, truncation=trunc)
        enc.bind_language_model(lm)
        ids, mask = enc.token_ids([text, 'short'])
        assert ids.shape == (2, 16) and int(mask[1].sum()) == 3  # [CLS] short [SEP]
        words = lm.tokenizer.decode(ids[0])
        assert words.startswith('[CLS] beginning') and words.endswith('[SEP]')
        assert ('verdict terrible' in words) == has_end
        assert ('verdict terrible' in truncate_text(lm.tokenizer, text, 16, trunc)) == has_end


@pytest.fixture(scope='module')
def tiny_lm_dir_language():
    from allspark.testing import tiny_language_model_dir
    return tiny_language_model_dir()


def test_language_imdb_config_end_to_end(tmp_path, loaded):
    root = write_imdb(tmp_path / 'aclImdb', per_class=4)
    opts = {f'{k}.dataset.data_root': root
            for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')}
    metrics = run_smoke_training(CONFIG, str(tmp_path / 'work'), max_iters=20, batch_size=4,
                                 cfg_options=opts)
    assert metrics['accuracy'] >= 75.0, metrics  # positive vs negative reviews: chance is 50%
    assert os.path.exists(tmp_path / 'work' / 'iter_20.pth')
