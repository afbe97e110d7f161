"""Batch augmentations: Mixup in the data preprocessor, the mixed-label loss, loud refusals."""
import pytest
import torch
import torch.nn.functional as F

import allspark
from allspark.models.batch_augments import Mixup
from allspark.models.heads import LinearClsHead
from allspark.registry import MODELS

allspark.register_all_modules()


def test_mixup_pairs_inputs_and_labels_consistently():
    torch.manual_seed(0)
    b = 6
    x = torch.eye(b) * 10.0  # row i is recognisable: 10 at column i
    samples = [dict(gt_label=i) for i in range(b)]
    inputs, mixed = Mixup(alpha=1.0, modalities=['hsi'])(dict(hsi=x.clone()), samples)
    lam = mixed[0]['mix_lam']
    assert 0.0 < lam < 1.0 and all(s['mix_lam'] == lam for s in mixed)
    for i, s in enumerate(mixed):
        j = s['mix_gt_label']  # the partner's label is its row index here
        expected = lam * x[i] + (1 - lam) * x[j]
        assert torch.allclose(inputs['hsi'][i], expected)
        assert s['gt_label'] == i
    assert 'mix_lam' not in samples[0]  # the batch's own dicts are not modified


def test_mixup_only_in_training_and_after_normalisation():
    torch.manual_seed(0)
    pre = MODELS.build(dict(type='AllSparkDataPreprocessor',
                            normalize=dict(hsi=dict(mean=[1.0, 2.0], std=[2.0, 4.0])),
                            batch_augments=[dict(type='Mixup', alpha=0.5, modalities=['hsi'])]))
    raw = torch.tensor([[1.0, 2.0], [3.0, 10.0], [5.0, 6.0]])
    data = lambda: dict(inputs=dict(hsi=raw.clone()),  # noqa: E731
                        data_samples=[dict(gt_label=k) for k in range(3)])
    normalised = (raw - torch.tensor([1.0, 2.0])) / torch.tensor([2.0, 4.0])
    out = pre(data(), training=False)
    assert torch.allclose(out['inputs']['hsi'], normalised)
    assert 'mix_lam' not in out['data_samples'][0]
    out = pre(data(), training=True)
    lam = out['data_samples'][0]['mix_lam']
    for i, s in enumerate(out['data_samples']):
        j = s['mix_gt_label']
        assert torch.allclose(out['inputs']['hsi'][i], lam * normalised[i] + (1 - lam) *
                              normalised[j], atol=1e-6)


def test_mixed_label_loss_is_the_weighted_sum():
    torch.manual_seed(0)
    head = LinearClsHead(in_dim=8, num_classes=4)
    feats = dict(tokens=torch.randn(3, 5, 8), mask=torch.ones(3, 5, dtype=torch.bool),
                 segments={'prompt': (0, 1), 'x': (1, 5)})
    samples = [dict(gt_label=a, mix_gt_label=b, mix_lam=0.3) for a, b in [(0, 1), (2, 2), (3, 0)]]
    logits = head(feats)
    want = (0.3 * F.cross_entropy(logits, torch.tensor([0, 2, 3])) +
            0.7 * F.cross_entropy(logits, torch.tensor([1, 2, 0])))
    assert torch.allclose(head.loss(feats, samples)['loss_cls'], want)
    plain = head.loss(feats, [dict(gt_label=a) for a in (0, 2, 3)])['loss_cls']
    assert torch.allclose(plain, F.cross_entropy(logits, torch.tensor([0, 2, 3])))


def _mixup_model_cfg(tiny_lm_dir, head: dict, batch_augments: list) -> dict:
    return dict(
        type='AllSpark',
        data_preprocessor=dict(type='AllSparkDataPreprocessor', batch_augments=batch_augments),
        modalities=dict(image=dict(
            encoder=dict(type='PatchEncoder', in_chans=1, img_size=8, patch_size=4, embed_dim=16),
            bridge=dict(type='PerceiverBridge', num_queries=2, depth=1, num_heads=2))),
        language_model=dict(type='HFLanguageModel', name_or_path=tiny_lm_dir),
        prompts=dict(image=[]), head=head)


def test_mixup_with_a_head_without_mixup_support_fails_at_build(tiny_lm_dir):
    mixup = [dict(type='Mixup', alpha=1.0, modalities=['image'])]
    with pytest.raises(ValueError, match=r'Mixup batch augment.*head LinearRegHead.*'
                                         r'supports_mixup=False'):
        MODELS.build(_mixup_model_cfg(tiny_lm_dir, dict(type='LinearRegHead', out_dim=1), mixup))
    # a head with a mixed-label loss builds with it, and a regression head builds without it
    model = MODELS.build(_mixup_model_cfg(tiny_lm_dir, dict(type='LinearClsHead', num_classes=2),
                                          mixup))
    assert model.head.supports_mixup
    model = MODELS.build(_mixup_model_cfg(tiny_lm_dir, dict(type='LinearRegHead', out_dim=1), []))

    # a mixed batch that still reaches such a head (augment added after the build) is refused
    data = dict(inputs=dict(image=torch.randn(4, 1, 8, 8)),
                data_samples=[dict(gt_label=0, gt_value=torch.zeros(1)) for _ in range(4)])
    model.data_preprocessor.batch_augments = [Mixup(alpha=1.0, modalities=['image'])]
    with pytest.raises(ValueError, match='LinearRegHead.*supports_mixup'):
        model(**model.data_preprocessor(data, training=True), mode='loss')


def test_mixup_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match='alpha'):
        Mixup(alpha=0.0, modalities=['hsi'])
    with pytest.raises(ValueError, match='modalities'):
        Mixup(alpha=1.0, modalities=[])
    with pytest.raises(TypeError, match="'hsi'.*float tensor"):
        Mixup(alpha=1.0, modalities=['hsi'])(dict(rgb=torch.zeros(2, 3)),
                                             [dict(gt_label=0), dict(gt_label=1)])
