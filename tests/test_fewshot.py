"""Few-shot evaluation: episodes, CI, prototypes, text prototypes through the LM, fusion chosen on
base classes only, ProtoNet loss and sampler, and the ``allspark fewshot`` tool end to end."""
import json
import math
import os

import numpy as np
import pytest
import torch

from allspark.evaluation import fewshot as fs
from allspark.models.heads.prototype import (
    PrototypeHead,
    TextPrototypeHead,
    encode_class_texts,
    split_episode,
)


# ----------------------------------------------------------------------------- episodes
def _labels(per_class=(8, 8, 8, 8, 8, 6)):
    return np.concatenate([np.full(n, c) for c, n in enumerate(per_class)])


def test_episodes_deterministic_and_disjoint():
    labels = _labels()
    a = fs.sample_episodes(labels, [0, 1, 2, 3, 4], 3, [1, 5], 2, 50, seed=7)
    b = fs.sample_episodes(labels, [0, 1, 2, 3, 4], 3, [1, 5], 2, 50, seed=7)
    c = fs.sample_episodes(labels, [0, 1, 2, 3, 4], 3, [1, 5], 2, 50, seed=8)
    for x, y in ((a.classes, b.classes), (a.query, b.query), (a.support_pool, b.support_pool)):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.query, c.query)
    for e in range(len(a)):
        assert len(set(a.classes[e])) == 3 and set(a.classes[e]) <= {0, 1, 2, 3, 4}
        for w, cls in enumerate(a.classes[e]):
            q, s = set(a.query[e, w]), set(a.support(5)[e, w])
            assert not q & s, 'a query is in its support set'
            assert len(q) == 2 and len(s) == 5
            assert set(labels[list(q | s)]) == {cls}
    # class 5 (6 samples) is not a novel class here, so it never appears
    assert 5 not in a.classes
    # 1-shot support is the first image of the 5-shot one, queries are shared between shots,
    # and asking for fewer shots does not change the episodes
    np.testing.assert_array_equal(a.support(1), a.support(5)[..., :1])
    d = fs.sample_episodes(labels, [0, 1, 2, 3, 4], 3, [1], 2, 50, seed=7)
    np.testing.assert_array_equal(d.query, a.query)
    np.testing.assert_array_equal(d.support(1), a.support(1))


def test_episodes_refuse_small_classes():
    with pytest.raises(ValueError, match=r'fewer than query \+ shot'):
        fs.sample_episodes(_labels(), [0, 5], 2, [5], 2, 3, seed=0)
    with pytest.raises(ValueError, match='need 3 classes'):
        fs.sample_episodes(_labels(), [0, 1], 3, [1], 2, 3, seed=0)


def test_confidence_interval_by_hand():
    mean, half = fs.mean_confidence_interval([50.0, 60.0, 70.0, 80.0])
    # sample std of 50, 60, 70, 80 = sqrt(((-15)^2 + (-5)^2 + 5^2 + 15^2) / 3) = 12.9099
    assert mean == pytest.approx(65.0)
    assert half == pytest.approx(1.959964 * 12.909944 / 2.0, rel=1e-5)
    assert math.isnan(fs.mean_confidence_interval([1.0])[1])


# ----------------------------------------------------------------------------- prototypes
def test_prototypes_by_hand():
    # 2 classes x (1 query + 2 support); 2-D features
    feats = torch.tensor([[1.0, 0.0], [3.0, 0.0], [1.0, 2.0],      # class 0: q, s, s
                          [0.0, 1.0], [0.0, 3.0], [-4.0, 1.0]])    # class 1: q, s, s
    eps = fs.Episodes(classes=np.array([[0, 1]]), query=np.array([[[0], [3]]]),
                      support_pool=np.array([[[1, 2], [4, 5]]]))
    # prototypes: class 0 = (2, 1), class 1 = (-2, 2)
    # query (1, 0): d^2 = 1 + 1 = 2 to p0, 9 + 4 = 13 to p1 -> class 0 (right)
    # query (0, 1): d^2 = 4 + 0 = 4 to p0, 4 + 1 = 5 to p1 -> class 0 (wrong)
    acc = fs.prototype_accuracy(feats, eps, shot=2, metric='euclidean')
    assert acc.tolist() == [0.5]
    # cosine: (0,1) vs p0=(2,1): 1/sqrt5 = .447; vs p1=(-2,2): 2/sqrt8 = .707 -> class 1 (right)
    assert fs.prototype_accuracy(feats, eps, shot=2, metric='cosine').tolist() == [1.0]
    # 1-shot: prototypes are the first support samples (3, 0) and (0, 3): both right
    assert fs.prototype_accuracy(feats, eps, shot=1, metric='euclidean').tolist() == [1.0]


def test_linear_probe_fits_the_support_set():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 8)) * 3
    labels = np.repeat(np.arange(4), 10)
    feats = torch.tensor(centres[labels] + rng.normal(size=(40, 8)) * 0.3, dtype=torch.float32)
    eps = fs.sample_episodes(labels, [0, 1, 2, 3], 4, [1, 3], 5, 20, seed=0)
    acc = fs.linear_probe_accuracy(feats, eps, 3, C=10.0)
    assert acc.mean() > 0.95
    shuffled = fs.linear_probe_accuracy(feats[torch.randperm(40)], eps, 3, C=10.0)
    assert shuffled.mean() < 0.6  # no structure left: near chance (0.25)


# ----------------------------------------------------------------------------- text prototypes
@pytest.fixture(scope='module')
def tiny_lm():
    import allspark
    from allspark.registry import LANGUAGE_MODELS
    from allspark.testing import tiny_language_model_cfg
    allspark.register_all_modules()
    return LANGUAGE_MODELS.build(tiny_language_model_cfg())


def test_text_prototypes_go_through_the_language_model(tiny_lm):
    texts = ['golf course', 'tennis court', 'river']
    prompt = 'What type of scene does this aerial RGB image show?'
    with torch.no_grad():
        before = encode_class_texts(tiny_lm, texts, prompt)
        # by hand: [CLS prompt SEP ; word pieces of the name] through the LM, mean over the name
        ids_p = tiny_lm.tokenize([prompt])['input_ids']
        ids_t = torch.tensor([tiny_lm.tokenizer('river', add_special_tokens=False)['input_ids']])
        seq = torch.cat([tiny_lm.embed_ids(ids_p), tiny_lm.embed_ids(ids_t)], 1)
        out = tiny_lm(inputs_embeds=seq, attention_mask=torch.ones(seq.shape[:2]).long())
        np.testing.assert_allclose(before[2], out[0, ids_p.shape[1]:].mean(0), atol=1e-5)
        # another prompt changes them (the prompt is attended to)
        assert not torch.allclose(before, encode_class_texts(tiny_lm, texts, 'a photo of'))
        # perturb one transformer layer: features and the zero-shot logits change
        layer = tiny_lm.base_model().encoder.layer[-1].output.dense
        saved = layer.weight.clone()
        layer.weight.add_(torch.randn_like(layer.weight) * 0.5)
        after = encode_class_texts(tiny_lm, texts, prompt)
        layer.weight.copy_(saved)
    assert (before - after).abs().max() > 1e-2
    queries = torch.randn(1, 6, before.shape[1])
    eps = fs.Episodes(classes=np.array([[0, 1, 2]]), query=np.arange(6).reshape(1, 3, 2),
                      support_pool=np.zeros((1, 3, 1), np.int64))
    l_before = fs.text_logits(queries[0], before, eps)
    l_after = fs.text_logits(queries[0], after, eps)
    assert (l_before - l_after).abs().max() > 1e-3


def test_text_prototype_head_trains_on_names(tiny_lm):
    head = TextPrototypeHead(in_dim=tiny_lm.hidden_size, class_texts=['forest', 'harbor'],
                             prompt='Which scene?', norm='none')
    head.bind_language_model(tiny_lm)
    texts = head.text_features()
    assert texts.shape == (2, tiny_lm.hidden_size)
    np.testing.assert_allclose(texts.mean(0), 0.0, atol=1e-5)  # centred on the class mean
    # features pointing at a class's text get that class
    feats = dict(tokens=texts[:, None, :].clone(), mask=torch.ones(2, 1, dtype=torch.bool),
                 segments={'rgb': (0, 1)})
    assert head(feats).argmax(-1).tolist() == [0, 1]
    loss = head.loss(feats, [dict(gt_label=0), dict(gt_label=1)])
    assert loss['acc'] == 1.0 and loss['loss_cls'].requires_grad


# ----------------------------------------------------------------------------- fusion on base
def _bank(seed=0, novel_noise=False, text_noise=False):
    """10 classes (0-4 base, 5-9 novel), 12 samples each; features = class centre + noise;
    text features = the class centre (informative) or noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(10, 16))
    labels = np.repeat(np.arange(10), 12)
    x = centres[labels] + rng.normal(size=(120, 16)) * 0.8
    if novel_noise:
        x[labels >= 5] = rng.normal(size=(60, 16)) * 5
    texts = rng.normal(size=(10, 16)) if text_noise else centres
    feats = dict(encoder=torch.tensor(x, dtype=torch.float32),
                 language=torch.tensor(x, dtype=torch.float32))
    return fs.FeatureBank(feats, labels, [f'c{i}' for i in range(10)],
                          text_features=torch.tensor(texts, dtype=torch.float32))


def test_fusion_weights_chosen_without_novel_data():
    kwargs = dict(novel=[5, 6, 7, 8, 9], base=[0, 1, 2, 3, 4], way=3, shots=[1, 3], query=4,
                  episodes=30, seed=0, base_episodes=40, log=lambda *a: None)
    clean = fs.evaluate_fewshot(_bank(), **kwargs)
    garbage = fs.evaluate_fewshot(_bank(novel_noise=True), **kwargs)
    assert clean['choices'] == garbage['choices']  # novel data changed, choices did not
    assert clean['results'] != garbage['results']
    # the choice follows the base data: useless class texts -> the support cache dominates
    noisy = fs.evaluate_fewshot(_bank(text_noise=True), **kwargs)
    assert noisy['choices'][3]['alpha'] > clean['choices'][3]['alpha']
    # informative texts: zero-shot well above chance (1/3); fusion at least as good on novel
    res = clean['results']
    assert res['text_zero_shot'][1]['mean'] > 60
    assert res['language_proto'][3]['mean'] > 60
    assert res['text_zero_shot'][1]['mean'] == res['text_zero_shot'][3]['mean']  # same queries


def test_base_episode_shape_caps_to_the_pool():
    labels = np.repeat(np.arange(15), 4)  # UC Merced's 15 base classes x 4 images
    assert fs.base_episode_shape(labels, range(15), 5, 1, 15) == (5, 1, 3)
    assert fs.base_episode_shape(labels, range(15), 5, 5, 15) == (5, 3, 1)


# ----------------------------------------------------------------------------- ProtoNet
def test_protonet_loss_by_hand():
    head = PrototypeHead(in_dim=2, shot=1, metric='euclidean')
    # batch as EpisodicSampler yields it: supports (class 7, class 3), then queries
    emb = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 1.0], [2.0, 1.0], [1.5, 0.0]])
    labels = [7, 3, 7, 3, 3]
    feats = dict(tokens=emb[:, None, :], mask=torch.ones(5, 1, dtype=torch.bool),
                 segments={'x': (0, 1)})
    out = head.loss(feats, [dict(gt_label=label) for label in labels])
    # prototypes p7 = (0, 0), p3 = (2, 0); queries (0,1): d^2 = (1, 5); (2,1): (5, 1);
    # (1.5,0): (2.25, 0.25).  CE = log(1 + e^{-(5-1)}) twice + log(1 + e^{-(2.25-0.25)})
    expected = (2 * math.log(1 + math.exp(-4)) + math.log(1 + math.exp(-2))) / 3
    assert out['loss_proto'].item() == pytest.approx(expected, rel=1e-5)
    assert out['acc'].item() == 1.0
    classes, support, (query, target) = split_episode(torch.tensor(labels), 1)
    assert classes == [7, 3] and support.flatten().tolist() == [0, 1]
    assert query.tolist() == [2, 3, 4] and target.tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match='needs more than shot=2'):
        PrototypeHead(in_dim=2, shot=2).loss(feats, [dict(gt_label=v) for v in labels])


class _Records:
    def __init__(self, labels):
        self.samples = [dict(gt_label=int(v)) for v in labels]


def test_episodic_sampler_batches_are_episodes():
    from allspark.datasets.episodic import EpisodicSampler

    labels = np.repeat(np.arange(6), 5)
    sampler = EpisodicSampler(_Records(labels), way=3, shot=2, query=2, episodes_per_epoch=4,
                              seed=1)
    order = list(sampler)
    assert len(order) == len(sampler) == 4 * 12
    for e in range(4):
        batch = order[e * 12:(e + 1) * 12]
        assert len(set(batch)) == 12
        sup, qry = labels[batch[:6]], labels[batch[6:]]
        assert len(set(sup)) == 3 and set(sup) == set(qry)
        # per class the first `shot` occurrences are the support (what PrototypeHead assumes)
        _, support, (query, _) = split_episode(torch.as_tensor(labels[batch]), 2)
        assert sorted(support.flatten().tolist()) == list(range(6))
    assert order == list(EpisodicSampler(_Records(labels), 3, 2, 2, 4, seed=1))
    sampler.set_epoch(1)
    assert list(sampler) != order
    with pytest.raises(ValueError, match='way=7'):
        EpisodicSampler(_Records(labels), way=7, shot=1, query=1, seed=0)


# ----------------------------------------------------------------------------- end to end
NOVEL = ('beach', 'golfcourse', 'mobilehomepark', 'river', 'sparseresidential', 'tenniscourt')
BASE = ('agricultural', 'airplane', 'forest')


def _write_ucm(root):
    from PIL import Image

    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, size=(len(NOVEL) + len(BASE), 3))
    for c, (cls, n) in enumerate([(c, 7) for c in NOVEL] + [(c, 4) for c in BASE]):
        os.makedirs(os.path.join(root, cls), exist_ok=True)
        for i in range(n):
            img = np.clip(colours[c] + rng.normal(0, 12, size=(32, 32, 3)), 0, 255)
            Image.fromarray(img.astype(np.uint8)).save(os.path.join(root, cls,
                                                                    f'{cls}{i:02d}.tif'))
    return str(root)


def _runtime_base():
    from allspark.config import core_config_dir

    if os.path.isdir(os.path.join(core_config_dir(), '_base_')):
        return 'allspark::_base_/default_runtime.py'
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(here, 'configs', '_base_', 'default_runtime.py')  # before the move


def _tiny_config(path, data_root, lm_dir, head, sampler=None, batch=4):
    text = f"""
_base_ = [{_runtime_base()!r}]
data_root = {data_root!r}
model = dict(
    type='AllSpark',
    data_preprocessor=dict(type='AllSparkDataPreprocessor', normalize=dict(rgb=dict(channels=3))),
    modalities=dict(rgb=dict(
        encoder=dict(type='TimmTokenEncoder', model_name='vit_tiny_patch16_224', img_size=32,
                     model_kwargs=dict(depth=1)),
        bridge=dict(type='PerceiverBridge', num_queries=2, depth=1, num_heads=2))),
    language_model=dict(type='HFLanguageModel', name_or_path={lm_dir!r}),
    head={head!r})
pipeline = [dict(type='Resize', size=32, keys='rgb')]
train_dataloader = dict(batch_size={batch}, num_workers=0,
    sampler={sampler or dict(type='DefaultSampler', shuffle=True)!r},
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(type='UCMercedDataset', data_root=data_root, split='all',
                 classes={list(BASE)!r}, pipeline=pipeline))
fewshot = dict(modality='rgb', batch_size=16,
               dataset=dict(type='UCMercedDataset', data_root=data_root, split='all',
                            pipeline=pipeline),
               published=[dict(method='paper', acc={{'1': 95.58, '5': 97.64}}, note='x')])
train_cfg = dict(by_epoch=False, max_iters=2)
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3))
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False))
"""
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def test_fewshot_tool_end_to_end(tmp_path, tiny_lm_dir):
    from allspark.commands import fewshot as command
    from allspark.engine.runner import build_runner, load_config

    root = _write_ucm(tmp_path / 'ucm')
    base_cfg = _tiny_config(tmp_path / 'base.py', root, tiny_lm_dir, dict(
        type='TextPrototypeHead', class_texts=list(BASE), modality='rgb'))
    proto_cfg = _tiny_config(tmp_path / 'proto.py', root, tiny_lm_dir,
                             dict(type='PrototypeHead', shot=1),
                             dict(type='EpisodicSampler', way=2, shot=1, query=1,
                                  episodes_per_epoch=2))
    for cfg_path, work in ((base_cfg, 'base'), (proto_cfg, 'proto')):
        runner = build_runner(load_config(cfg_path), work_dir=str(tmp_path / work))
        runner.train()
    out = tmp_path / 'out'

    def argv(shots, out_dir, *extra):
        return [base_cfg, str(tmp_path / 'base' / 'iter_2.pth'), '--way', '3', '--shot',
                *shots, '--query', '4', '--episodes', '20', '--base-episodes', '10', '--seed',
                '0', '--protonet', proto_cfg, str(tmp_path / 'proto' / 'iter_2.pth'),
                '--out-dir', str(out_dir), *extra]

    assert command.main(argv(['1', '3'], out)) == 0
    report = json.loads((out / 'fewshot.json').read_text())
    assert (out / 'fewshot.png').stat().st_size > 1000
    assert report['episodes']['novel_classes'] == list(NOVEL)  # from the dataset's metainfo
    assert report['episodes']['base_classes'] == list(BASE)
    assert report['episodes']['novel_samples'] == 42 and report['episodes']['base_samples'] == 12
    assert set(report['results']) == set(fs.METHODS)
    seen = report['feature_model']
    assert seen['training_data']['samples'] == 12
    assert seen['training_data']['classes'] == list(BASE)
    assert seen['novel_classes_seen_in_training'] == []
    assert seen['novel_samples_seen_in_training'] == 0
    assert 'too few held-out base samples' in seen['settings_chosen_on']  # all 12 trained on
    assert 'randomly' in seen['encoder_pretraining']
    for method, per_shot in report['results'].items():
        assert set(per_shot) == {'1', '3'}
        assert all(r['n'] == 20 and r['ci95'] >= 0 for r in per_shot.values())
    # colour-coded classes: even a barely trained encoder's prototypes beat chance (33 %)
    assert report['results']['encoder_proto']['3']['mean'] > 70
    # same seed, same episodes, same numbers, whatever the other shots asked for; --classes
    # picks other novel classes
    assert command.main(argv(['1'], tmp_path / 'out2', '--classes', 'beach', 'river',
                             'tenniscourt')) == 0
    three = json.loads((tmp_path / 'out2' / 'fewshot.json').read_text())
    assert three['episodes']['novel_classes'] == ['beach', 'river', 'tenniscourt']
    assert command.main(argv(['1'], tmp_path / 'out3')) == 0
    again = json.loads((tmp_path / 'out3' / 'fewshot.json').read_text())
    for method, per_shot in report['results'].items():
        assert again['results'][method] == {'1': per_shot['1']}, method
    with pytest.raises(SystemExit, match='not classes of the few-shot dataset'):
        command.main(argv(['1'], out, '--classes', 'beach', 'moon'))
