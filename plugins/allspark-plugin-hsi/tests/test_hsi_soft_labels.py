"""Training on abundances: HSIPixelDataset(soft_labels=True) carries each pixel's fractions,
LinearClsHead(soft_label_key=...) takes the cross-entropy to them, and the benchmark's
kernel-ridge baseline gets the same fractions."""
import numpy as np
import pytest
import scipy.io
import torch

from allspark.datasets import DataError
from allspark.engine.runner import setup

setup()

from test_hsi_layouts import COLS, ROWS, K, ds, write_samson_like  # noqa: E402

from allspark.models.heads.classification import LinearClsHead  # noqa: E402


def test_soft_labels_are_the_fractions_and_their_argmax_the_label(tmp_path):
    root = str(tmp_path)
    _, ab = write_samson_like(root)
    train = ds(root, soft_labels=True)
    for i in range(len(train)):
        r, c = train.samples[i]
        sample = train.get_sample(i)
        np.testing.assert_allclose(sample['gt_soft'], ab[r, c] / ab[r, c].sum(), atol=1e-6)
        assert sample['gt_label'] == int(np.argmax(sample['gt_soft']))
    mixed = [i for i, (r, c) in enumerate(train.samples) if c == 2]
    assert mixed and all(train.get_sample(i)['gt_soft'].max() < 0.6 for i in mixed)
    assert train.fractions().shape == (len(train), K)
    assert 'gt_soft' not in ds(root).get_sample(0)  # off by default


def test_soft_labels_need_abundances(tmp_path):
    labels = np.zeros((ROWS, COLS), np.uint8)
    labels[:, 3:] = 1
    write_samson_like(str(tmp_path))
    scipy.io.savemat(str(tmp_path / 'map.mat'), {'gt': labels})
    with pytest.raises(DataError, match=r'map\.mat: soft_labels=True needs per-pixel '
                                        r'abundances'):
        ds(str(tmp_path), gt_file='map.mat', gt_type='map', soft_labels=True, ignore_index=None)


def test_soft_target_loss():
    torch.manual_seed(0)
    head = LinearClsHead(in_dim=8, num_classes=3, soft_label_key='gt_soft')
    head.read = lambda features: features['x']  # the pooled features, given directly
    feats = {'x': torch.randn(4, 8)}
    labels = [0, 1, 2, 0]
    hard = [dict(gt_label=y) for y in labels]
    one_hot = [dict(gt_label=y, gt_soft=np.eye(3, dtype=np.float32)[y]) for y in labels]
    # one-hot fractions: the usual cross-entropy
    assert torch.allclose(head.loss(feats, one_hot)['loss_cls'], head.loss(feats, hard)['loss_cls'])
    # the loss is smallest where the predicted distribution is the target's
    target = np.array([0.55, 0.45, 0.0], np.float32)
    soft = [dict(gt_label=0, gt_soft=target)]
    logits = torch.zeros(1, 3, requires_grad=True)
    opt = torch.optim.SGD([logits], lr=1.0)
    head.fc = torch.nn.Identity()
    for _ in range(300):
        opt.zero_grad()
        head.loss({'x': logits}, soft)['loss_cls'].backward()
        opt.step()
    probs = logits.softmax(-1).detach().numpy()[0]
    np.testing.assert_allclose(probs[:2], target[:2], atol=0.02)
    with pytest.raises(ValueError, match=r'gt_soft has shape \(1, 2\), expected \(1, 3\)'):
        head.loss({'x': logits}, [dict(gt_label=0, gt_soft=np.ones(2, np.float32))])
    with pytest.raises(ValueError, match='soft labels .* and Mixup'):
        head.loss({'x': logits}, [dict(gt_label=0, gt_soft=target, mix_lam=0.5,
                                            mix_gt_label=1)])
