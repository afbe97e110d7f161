"""The AllSpark model: shapes, build-time checks, multi-modality, prompts, the language model."""
import pytest
import torch

import allspark
from allspark.registry import MODELS

allspark.register_all_modules()


def image_modality(dim=16, queries=4):
    return dict(encoder=dict(type='PatchEncoder', in_chans=1, img_size=8, patch_size=4,
                             embed_dim=dim),
                bridge=dict(type='PerceiverBridge', num_queries=queries, depth=1, num_heads=2))


def build(tiny_lm_dir, **kw):
    cfg = dict(type='AllSpark', modalities=dict(image=image_modality()),
               language_model=dict(type='HFLanguageModel', name_or_path=tiny_lm_dir),
               prompts=dict(image=['first prompt', 'second prompt here', 'third']),
               head=dict(type='LinearClsHead', num_classes=3))
    cfg.update(kw)
    return MODELS.build(cfg)


def batch(n=4):
    return dict(inputs=dict(image=torch.randn(n, 1, 8, 8)),
                data_samples=[dict(gt_label=i % 3) for i in range(n)])


def test_forward_shapes_and_segments(tiny_lm_dir):
    model = build(tiny_lm_dir).eval()
    feats = model(**model.data_preprocessor(batch()), mode='tensor')
    start, end = feats['segments']['image']
    assert feats['tokens'].shape == (4, end, 32) and end - start == 4
    assert feats['segments']['prompt'] == (0, start)  # [prompt ; bridged]
    preds = model(**model.data_preprocessor(batch()), mode='predict')
    assert len(preds) == 4 and preds[0]['pred_score'].shape == (3,)


def test_bridged_first_order(tiny_lm_dir):
    model = build(tiny_lm_dir, token_order='bridged_first').eval()
    feats = model(**model.data_preprocessor(batch()), mode='tensor')
    assert feats['segments']['image'] == (0, 4)


def test_shape_mismatch_is_a_build_time_error_naming_both(tiny_lm_dir):
    mod = image_modality()
    mod['bridge']['in_dim'] = 99
    with pytest.raises(ValueError, match=r"bridge of 'image': in_dim=99 .*PatchEncoder \(16\)"):
        build(tiny_lm_dir, modalities=dict(image=mod))
    with pytest.raises(ValueError, match=r'head LinearClsHead: in_dim=7 .*\(32\)'):
        build(tiny_lm_dir, head=dict(type='LinearClsHead', num_classes=3, in_dim=7))


def test_runtime_shape_error_names_component(tiny_lm_dir):
    model = build(tiny_lm_dir)
    with pytest.raises(ValueError,
                       match=r'PatchEncoder expects \(B, 1, 8, 8\), got \(2, 3, 8, 8\)'):
        model(inputs=dict(image=torch.randn(2, 3, 8, 8)), mode='tensor')


def test_language_model_is_in_the_forward_pass(tiny_lm_dir):
    model = build(tiny_lm_dir).eval()
    data = model.data_preprocessor(batch())
    before = model(**data, mode='tensor')['tokens'].clone()
    with torch.no_grad():  # perturb a deep language-model weight: the output must change
        weight = model.language_model.model.encoder.layer[-1].output.dense.weight
        weight.add_(torch.randn_like(weight))  # random: a constant shift would vanish in LayerNorm
    after = model(**data, mode='tensor')['tokens']
    assert not torch.allclose(before, after)
    # frozen language model, yet the bridge is trained *through* it
    model.train()
    loss = model(**data, mode='loss')['loss_cls']
    loss.backward()
    assert model.bridges['image'].queries.grad is not None
    assert model.bridges['image'].queries.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.language_model.parameters())


def test_prompts_random_in_training_first_in_eval(tiny_lm_dir):
    model = build(tiny_lm_dir)
    bank = model.prompt_bank
    assert {bank.select(['image'], training=False) for _ in range(10)} == {'first prompt'}
    assert len({bank.select(['image'], training=True) for _ in range(50)}) == 3
    model.eval()
    a = model(**model.data_preprocessor(batch()), mode='tensor')['tokens']
    b = model(**model.data_preprocessor(batch()), mode='tensor')['tokens']
    assert a.shape == b.shape  # deterministic prompt at evaluation


def test_two_modalities_meet_in_one_sequence(tiny_lm_dir):
    model = build(tiny_lm_dir, modalities=dict(image=image_modality(),
                                               depth=image_modality(dim=8, queries=3))).eval()
    x = dict(image=torch.randn(2, 1, 8, 8), depth=torch.randn(2, 1, 8, 8))
    feats = model(inputs=x, mode='tensor')
    assert feats['segments']['image'][1] == feats['segments']['depth'][0]
    assert feats['tokens'].shape[1] == feats['segments']['depth'][1]
    # the depth input changes the image tokens' outputs: they attend to each other
    x2 = dict(image=x['image'], depth=torch.randn(2, 1, 8, 8))
    s, e = feats['segments']['image']
    assert not torch.allclose(feats['tokens'][:, s:e],
                              model(inputs=x2, mode='tensor')['tokens'][:, s:e])
    # and a sample may carry only some of the modalities
    only = model(inputs=dict(depth=x['depth']), mode='tensor')
    assert 'image' not in only['segments']


def test_separate_fusion_with_retrieval_head(tiny_lm_dir):
    model = build(tiny_lm_dir, fusion='separate',
                  modalities=dict(image=image_modality(), depth=image_modality()),
                  head=dict(type='RetrievalHead', modalities=['image', 'depth'], embed_dim=16))
    x = dict(image=torch.randn(4, 1, 8, 8), depth=torch.randn(4, 1, 8, 8))
    loss = model(inputs=x, data_samples=[{}] * 4, mode='loss')['loss_align']
    assert torch.isfinite(loss) and loss > 0
    preds = model.eval()(inputs=x, data_samples=[{}] * 4, mode='predict')
    assert preds[0]['embeddings']['image'].shape == (16,)


def test_text_modality_goes_straight_into_the_language_model(tiny_lm_dir):
    model = build(tiny_lm_dir, modalities=dict(text=dict(
        encoder=dict(type='TextEncoder', max_length=16), bridge=dict(type='LinearBridge'))),
        prompts=dict(text=['Is this review positive?'])).eval()
    feats = model(inputs=dict(text=['a fine film', 'dull and far far too long']), mode='tensor')
    s, e = feats['segments']['text']
    assert feats['mask'][0, s:e].sum() < feats['mask'][1, s:e].sum()  # padding is masked


def test_unknown_input_modality(tiny_lm_dir):
    model = build(tiny_lm_dir)
    with pytest.raises(KeyError, match='no configured modality'):
        model(inputs=dict(sound=torch.randn(1, 3)), mode='tensor')
