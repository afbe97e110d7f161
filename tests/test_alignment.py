"""Alignment with missing modalities: InfoNCE, masking, pivot mode, the two paths, dropout."""
import math

import numpy as np
import pytest
import torch

import allspark
from allspark.datasets import allspark_collate
from allspark.models.heads.alignment import AlignmentHead, info_nce
from allspark.registry import MODELS

allspark.register_all_modules()


def feats(x, present=None):
    d = dict(pooled=torch.as_tensor(x, dtype=torch.float32))
    if present is not None:
        d['present'] = torch.tensor(present)
    return d


def identity_head(mods=('a', 'b'), **kw):
    head = AlignmentHead(in_dim=2, modalities=list(mods), embed_dim=2, temperature=0.5,
                         learn_temperature=False, **kw)
    for proj in head.proj.values():
        with torch.no_grad():
            proj.weight.copy_(torch.eye(2))
            proj.bias.zero_()
    return head


def test_info_nce_two_by_two_by_hand():
    # a = b = the two unit vectors; logits = 2 * I  ->  per row CE = log(1 + e^-2) both ways
    head = identity_head()
    out = head.loss(dict(a=feats([[1, 0], [0, 1]]), b=feats([[1, 0], [0, 1]])), [{}, {}])
    assert out['loss_align'].item() == pytest.approx(math.log(1 + math.exp(-2)), abs=1e-6)
    # a non-symmetric case: a = (1, 0), (0.6, 0.8); b = unit vectors; scale 2
    out = head.loss(dict(a=feats([[1, 0], [0.6, 0.8]]), b=feats([[1, 0], [0, 1]])), [{}, {}])
    s = 2.0
    logits = torch.tensor([[1.0, 0.0], [0.6, 0.8]]) * s  # rows: a, columns: b
    a2b = (-(logits[0, 0] - torch.logsumexp(logits[0], 0))
           - (logits[1, 1] - torch.logsumexp(logits[1], 0))) / 2
    b2a = (-(logits[0, 0] - torch.logsumexp(logits[:, 0], 0))
           - (logits[1, 1] - torch.logsumexp(logits[:, 1], 0))) / 2
    assert out['loss_align'].item() == pytest.approx(float((a2b + b2a) / 2), abs=1e-6)


def test_missing_modality_is_masked_out_of_its_pairs_only():
    head = identity_head(('a', 'b', 'c'))
    x = [[1, 0], [0, 1], [0.6, 0.8]]
    # sample 2 lacks c: pairs (a,c) and (b,c) use samples 0, 1 only; (a,b) uses all three
    full = dict(a=feats(x), b=feats(x), c=feats(x, [True, True, False]))
    out = head.loss(full, [{}] * 3)
    ab = head.loss(dict(a=feats(x), b=feats(x)), [{}] * 3)['loss_align']
    # a -> c: queries 0, 1 against the keys that exist (c of 0, 1); c -> a: queries 0, 1
    # against every a (sample 2's a is a negative too)
    e = torch.nn.functional.normalize(torch.tensor(x), dim=-1)
    a2c = info_nce(e[:2], e[:2], torch.tensor([0, 1]), torch.tensor(2.0))
    c2a = info_nce(e[:2], e, torch.tensor([0, 1]), torch.tensor(2.0))
    ac = (a2c + c2a) / 2
    assert out['loss_align'].item() == pytest.approx(float((ab + 2 * ac) / 3), abs=1e-6)
    assert out['unpaired_samples'].item() == 0 and out['align_pairs'].item() == 3
    # changing the absent sample's placeholder changes nothing
    x2 = [[1, 0], [0, 1], [-1, 0]]
    out2 = head.loss(dict(a=feats(x), b=feats(x), c=feats(x2, [True, True, False])), [{}] * 3)
    assert out2['loss_align'].item() == pytest.approx(out['loss_align'].item(), abs=1e-6)


def test_single_modality_samples_are_counted_and_the_loss_stays_finite():
    head = identity_head()
    x = [[1, 0], [0, 1], [0.6, 0.8]]
    out = head.loss(dict(a=feats(x), b=feats(x, [True, True, False])), [{}] * 3)
    assert out['unpaired_samples'].item() == 1 and head.unpaired_total == 1
    # nobody paired: zero loss that still back-propagates, no crash
    x_a = torch.tensor(x, requires_grad=True)
    out = head.loss(dict(a=dict(pooled=x_a), b=feats(x, [False, False, False])), [{}] * 3)
    out['loss_align'].backward()
    assert out['loss_align'].item() == 0 and out['unpaired_samples'].item() == 3


def test_pivot_mode_aligns_to_the_pivot_only():
    head = identity_head(('a', 'b', 'c'), pivot='c')
    assert head.pairs(['a', 'b', 'c']) == [('c', 'a'), ('c', 'b')]
    assert head.pairs(['a', 'b']) == []  # no pivot in the batch: nothing to align
    x, y = [[1, 0], [0, 1]], [[0.6, 0.8], [0.8, -0.6]]
    out = head.loss(dict(a=feats(x), b=feats(y), c=feats(x)), [{}] * 2)
    ca = head.loss(dict(a=feats(x), c=feats(x)), [{}] * 2)['loss_align']
    cb = head.loss(dict(b=feats(y), c=feats(x)), [{}] * 2)['loss_align']
    assert out['loss_align'].item() == pytest.approx(float((ca + cb) / 2), abs=1e-6)
    all_to_all = identity_head(('a', 'b', 'c')).loss(dict(a=feats(x), b=feats(y), c=feats(x)),
                                                     [{}] * 2)
    assert all_to_all['align_pairs'].item() == 3 and out['align_pairs'].item() == 2
    with pytest.raises(ValueError, match="pivot 'd' is not one of"):
        identity_head(('a', 'b'), pivot='d')


def test_temperature_is_clamped():
    head = AlignmentHead(in_dim=2, modalities=['a', 'b'], temperature=0.07, min_temperature=0.05)
    with torch.no_grad():
        head.logit_scale.fill_(10.0)  # temperature e^-10, below the floor
    assert head.temperature == pytest.approx(0.05, rel=1e-5)


def test_queue_adds_negatives_after_the_first_batch():
    head = identity_head(('a', 'b'), queue_size=4, queue_modality='b')
    x = [[1, 0], [0, 1]]
    first = head.loss(dict(a=feats(x), b=feats(x)), [{}] * 2)['loss_align']
    assert int(head.queue_filled) == 2
    second = head.loss(dict(a=feats(x), b=feats(x)), [{}] * 2)['loss_align']
    assert second > first  # the queued copies of b are hard negatives for a -> b


# ---------------------------------------------------------------------------------- model
def image_modality(dim=16):
    return dict(encoder=dict(type='PatchEncoder', in_chans=1, img_size=8, patch_size=4,
                             embed_dim=dim),
                bridge=dict(type='PerceiverBridge', num_queries=2, depth=1, num_heads=2))


def build(tiny_lm_dir, fusion='separate', **kw):
    cfg = dict(type='AllSpark', fusion=fusion,
               modalities=dict(image=image_modality(), depth=image_modality(8),
                               text=dict(encoder=dict(type='TextEncoder', max_length=8),
                                         bridge=dict(type='LinearBridge'))),
               language_model=dict(type='HFLanguageModel', name_or_path=tiny_lm_dir),
               prompts=dict(image=['an image'], depth=[], text=[]),
               head=dict(type='AlignmentHead', modalities=['image', 'depth', 'text'],
                         embed_dim=8))
    cfg.update(kw)
    return MODELS.build(cfg)


def samples(n, drop=()):
    g = torch.Generator().manual_seed(0)
    out = []
    for i in range(n):
        inputs = dict(image=torch.randn(1, 8, 8, generator=g), depth=torch.randn(1, 8, 8,
                                                                               generator=g),
                      text=f'sample number {i}')
        for m, j in drop:
            if j == i:
                inputs.pop(m)
        out.append(dict(inputs=inputs, data_samples=dict(index=i)))
    return out


def test_collate_marks_missing_modalities():
    batch = allspark_collate(samples(3, drop=[('depth', 1), ('text', 2)]))
    mask = batch['inputs']['modality_mask']
    assert mask['depth'].tolist() == [True, False, True]
    assert mask['text'].tolist() == [True, True, False]
    assert 'image' not in mask and batch['inputs']['text'][2] == ''
    assert batch['inputs']['depth'][1].abs().sum() == 0
    full = allspark_collate(samples(2))
    assert 'modality_mask' not in full['inputs']


@pytest.mark.parametrize('fusion', ['separate', 'direct'])
def test_model_masks_missing_modalities_end_to_end(tiny_lm_dir, fusion):
    torch.manual_seed(0)
    model = build(tiny_lm_dir, fusion).eval()
    data = model.data_preprocessor(allspark_collate(samples(4, drop=[('depth', 1),
                                                                      ('text', 3)])))
    loss = model(**data, mode='loss')
    assert torch.isfinite(loss['loss_align']) and loss['align_pairs'].item() == 3
    preds = model(**data, mode='predict')
    assert sorted(preds[1]['embeddings']) == ['image', 'text']
    assert sorted(preds[3]['embeddings']) == ['depth', 'image']
    # a sample's embedding does not depend on whether its neighbours have the modality
    full = model.data_preprocessor(allspark_collate(samples(4)))
    ref = model(**full, mode='predict')
    for i in (0, 2):
        for m in ('image', 'depth', 'text'):
            assert torch.allclose(preds[i]['embeddings'][m], ref[i]['embeddings'][m], atol=1e-5)
    # and the placeholder's content is never seen
    data2 = dict(data, inputs=dict(data['inputs'], depth=data['inputs']['depth'].clone()))
    data2['inputs']['depth'][1] = 100.0
    preds2 = model(**data2, mode='predict')
    assert torch.allclose(preds2[0]['embeddings']['depth'], preds[0]['embeddings']['depth'],
                          atol=1e-5)
    assert model(**data2, mode='loss')['loss_align'].item() == pytest.approx(
        loss['loss_align'].item(), abs=1e-5)


def test_direct_path_skips_the_language_model(tiny_lm_dir):
    model = build(tiny_lm_dir, 'direct').eval()
    assert model.head.in_dims['depth'] == 8 and model.head.in_dims['image'] == 16
    calls = []
    model.language_model.register_forward_hook(lambda *a: calls.append(1))
    data = model.data_preprocessor(allspark_collate(samples(2)))
    model(**data, mode='loss')
    assert not calls
    lm_model = build(tiny_lm_dir, 'separate').eval()
    lm_model.language_model.register_forward_hook(lambda *a: calls.append(1))
    lm_model(**lm_model.data_preprocessor(allspark_collate(samples(2))), mode='loss')
    assert len(calls) == 3  # one language-model pass per modality


def test_modality_dropout_in_joint_fusion(tiny_lm_dir):
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='AllSpark', modalities=dict(image=image_modality(), depth=image_modality(8)),
        language_model=dict(type='HFLanguageModel', name_or_path=tiny_lm_dir),
        head=dict(type='LinearClsHead', num_classes=3), modality_dropout=dict(depth=0.5)))
    x = dict(image=torch.randn(64, 1, 8, 8), depth=torch.randn(64, 1, 8, 8))
    dropped = model.drop_modalities(x)
    mask = dropped['modality_mask']
    assert 10 < int((~mask['depth']).sum()) < 54 and bool(mask['image'].all())
    # a sample that only has depth keeps it
    only = model.drop_modalities(dict(x, modality_mask=dict(image=torch.zeros(64, dtype=bool))))
    assert bool(only['modality_mask']['depth'].all())
    # in the joint sequence, a dropped modality's tokens are masked out of attention
    model.eval()
    feats = model(inputs=dropped, mode='tensor')
    s, e = feats['segments']['depth']
    absent = ~mask['depth']
    assert not feats['mask'][absent, s:e].any() and feats['mask'][~absent, s:e].all()
    # a sample's output does not depend on its dropped modality's placeholder values
    changed = dict(dropped, depth=dropped['depth'].clone())
    changed['depth'][absent] = 50.0
    again = model(inputs=changed, mode='tensor')
    assert torch.allclose(again['tokens'][absent], feats['tokens'][absent], atol=1e-5)
    preds = model(inputs=changed, data_samples=[{} for _ in range(64)], mode='predict')
    assert len(preds) == 64
    with pytest.raises(ValueError, match='modality_dropout'):
        MODELS.build(dict(type='AllSpark', modalities=dict(image=image_modality()),
                          language_model=dict(type='HFLanguageModel', name_or_path=tiny_lm_dir),
                          head=dict(type='LinearClsHead', num_classes=3),
                          modality_dropout=dict(sound=0.5)))


def test_alignment_learns_with_missing_modalities():
    """Three noisy linear views of one latent; 40 % of the c views missing in training.  After
    training, retrieval of held-out samples across every pair is far above chance (1/64)."""
    from allspark.evaluation.alignment import pairwise_retrieval_table

    g = torch.Generator().manual_seed(0)
    mix = {m: torch.randn(8, 16, generator=g) for m in 'abc'}

    def views(n):
        z = torch.randn(n, 8, generator=g)
        return {m: z @ mix[m] + 0.1 * torch.randn(n, 16, generator=g) for m in 'abc'}

    torch.manual_seed(0)
    head = AlignmentHead(in_dim=16, modalities=['a', 'b', 'c'], embed_dim=16, temperature=0.1)
    opt = torch.optim.Adam(head.parameters(), lr=1e-2)
    for _ in range(150):
        x = views(64)
        present = torch.rand(64, generator=g) > 0.4
        loss = head.loss({m: dict(pooled=x[m], present=present if m == 'c' else None)
                          for m in 'abc'}, [{}] * 64)['loss_align']
        opt.zero_grad()
        loss.backward()
        opt.step()
    head.eval()
    x = views(64)
    emb, _ = head({m: dict(pooled=x[m]) for m in 'abc'})
    table = pairwise_retrieval_table([{m: emb[m][i] for m in 'abc'} for i in range(64)])
    assert len(table) == 6
    for pair, scores in table.items():
        assert scores['recall@1'] > 0.5, (pair, scores)  # chance: 1/64
        assert scores['median_rank'] == 1


def test_retrieval_ranks_and_geolocation_scores():
    from allspark.evaluation.alignment import pair_retrieval, summarise_table
    from allspark.evaluation.geolocation import (
        geolocation_scores,
        global_grid,
        retrieve_locations,
        spherical_centroid,
    )

    q = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    gallery = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # keys 0 and 1 identical
    out = pair_retrieval(q, gallery, torch.tensor([0, 1, 2]))
    # query 0: rank 1; query 1 (truth = key 1 = (1, 0), but key 2 scores 1): rank 2;
    # query 2: truth (0, 1) scores 0.8 > 0.6: rank 1 (ties never push the truth down)
    assert out['ranks'].tolist() == [1, 2, 1] and out['recall@1'] == pytest.approx(2 / 3)
    assert out['median_rank'] == 1
    table = {('a', 'b'): dict(out, **{'recall@5': 1.0}), ('a', 'p'): dict(out, **{'recall@5': 0.0})}
    s = summarise_table(table, pivot='p', ks=(5,))
    assert s['mean/recall@5'] == 0.5 and s['mean_excl_p/recall@5'] == 1.0
    london, paris = (51.5074, -0.1278), (48.8566, 2.3522)  # 343.5 km apart
    scores = geolocation_scores(np.array([london, london]), np.array([london, paris]))
    assert scores['within_1km'] == 0.5 and scores['within_200km'] == 0.5
    assert scores['within_750km'] == 1.0 and scores['median_km'] == pytest.approx(171.8, abs=1)
    assert np.allclose(spherical_centroid(np.array([[0, 10], [0, -10]])), [0, 0], atol=1e-9)
    assert np.allclose(spherical_centroid(np.array([[10, 179], [10, -179]]))[1] % 360, 180)
    grid = global_grid(30.0)
    assert grid.shape == (6 * 12, 2) and grid[:, 0].min() == -75 and grid[:, 1].max() == 165
    best = retrieve_locations(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 0], [0, 1.0]]),
                              np.array([[1.0, 2.0], [3.0, 4.0]]), chunk=1)
    assert best.tolist() == [[3.0, 4.0]]
    with pytest.raises(ValueError, match=r'\(N, 2\)'):
        geolocation_scores(np.zeros((3, 2)), np.zeros((2, 2)))
