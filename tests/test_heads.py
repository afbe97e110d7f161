"""Heads: un-scaling, best-of-K sequence loss, per-token reading, classification."""
import torch

from allspark.models.heads import LinearRegHead, SequenceRegHead, select_features


def feats(b=3, t=6, d=8):
    return dict(tokens=torch.randn(b, t, d), mask=torch.ones(b, t, dtype=torch.bool),
                segments={'prompt': (0, 2), 'x': (2, 6)})


def test_select_features_sources():
    f = feats()
    assert select_features(f, 'tokens:x').shape == (3, 4, 8)
    assert torch.allclose(select_features(f, 'bridged'), f['tokens'][:, 2:].mean(1))
    assert torch.allclose(select_features(f, 'first'), f['tokens'][:, 0])


def test_regression_unscaling_is_parameter_free():
    head = LinearRegHead(in_dim=8, out_dim=1)
    head.set_target_stats([100.0], [10.0])
    n_params = sum(p.numel() for p in head.parameters())
    assert n_params == 9  # the linear layer only: statistics are buffers
    f = feats()
    scaled = head(f)
    pred = torch.stack([p['pred_value'] for p in head.predict(f, [{}] * 3)])
    assert torch.allclose(pred, scaled.squeeze(-1) * 10 + 100, atol=1e-5)
    assert 'scaling.target_mean' in head.state_dict()


def test_sequence_head_best_of_k():
    torch.manual_seed(0)
    head = SequenceRegHead(in_dim=8, horizon=5, channels=2, num_modes=3)
    f = feats()
    pred = head(f)
    assert pred.shape == (3, 3, 5, 2)
    # the loss equals the error of the best hypothesis per sample
    target = pred[:, 1].detach() + 0.0
    loss = head.loss(f, [dict(gt_seq=t) for t in target])['loss_seq']
    assert loss < 1e-3


def test_sequence_head_per_token_with_mask():
    head = SequenceRegHead(in_dim=8, horizon=4, channels=1, source='tokens:x', loss='l1')
    f = feats()
    assert head(f).shape == (3, 4, 1, 4, 1)
    gt = torch.zeros(4, 4, 1)
    mask = torch.zeros(4, 4, 1, dtype=torch.bool)
    loss = head.loss(f, [dict(gt_seq=gt, gt_mask=mask)] * 3)['loss_seq']
    assert loss == 0  # everything masked: nothing to learn from


def test_sequence_head_per_reading_weights():
    """gt_weight multiplies each reading's error: weight 0 removes a reading from the loss,
    weight 2 doubles its share; the mean stays over the valid readings."""
    import pytest
    torch.manual_seed(0)
    head = SequenceRegHead(in_dim=8, horizon=4, channels=1, source='tokens:x', loss='l1')
    f = feats()
    pred = head(f).detach()[:, :, 0]  # (B, n, H, C)
    target = pred + 1.0  # every reading off by exactly 1 (scaled units)
    target[:, :, 0] += 2.0  # the first step off by 3
    samples = [dict(gt_seq=t) for t in target]
    assert torch.isclose(head.loss(f, samples)['loss_seq'], torch.tensor(1.5))
    weight = torch.ones(4, 4, 1)
    weight[:, 0] = 0.0  # drop the first step
    loss = head.loss(f, [dict(s, gt_weight=weight) for s in samples])['loss_seq']
    assert torch.isclose(loss, torch.tensor(0.75))  # 3 readings of error 1 over 4
    loss = head.loss(f, [dict(s, gt_weight=2 * torch.ones(4, 4, 1)) for s in samples])
    assert torch.isclose(loss['loss_seq'], torch.tensor(3.0))
    with pytest.raises(ValueError, match='gt_weight has shape'):
        head.loss(f, [dict(s, gt_weight=torch.ones(4, 3, 1)) for s in samples])


def test_regression_losses_pointwise():
    import pytest

    from allspark.models.heads.regression import _pointwise_loss
    pred, target = torch.tensor([0.0, 0.0]), torch.tensor([0.5, 3.0])
    assert torch.allclose(_pointwise_loss('l1', pred, target), torch.tensor([0.5, 3.0]))
    assert torch.allclose(_pointwise_loss('mse', pred, target), torch.tensor([0.25, 9.0]))
    # l1_mse: |e| + e^2 / 2
    assert torch.allclose(_pointwise_loss('l1_mse', pred, target), torch.tensor([0.625, 7.5]))
    with pytest.raises(ValueError, match='l1_mse'):
        _pointwise_loss('huber', pred, target)


def test_mode_scorer_orders_hypotheses_by_probability():
    torch.manual_seed(0)
    head = SequenceRegHead(in_dim=8, horizon=5, channels=2, num_modes=4)
    assert head.mode_scorer is not None
    f = feats()
    raw = head(f).detach()
    target = raw[:, 2]  # hypothesis 2 is the best for every sample
    opt = torch.optim.SGD(head.mode_scorer.parameters(), lr=1.0)
    for _ in range(50):
        opt.zero_grad()
        losses = head.loss(f, [dict(gt_seq=t) for t in target])
        losses['loss_mode'].backward()
        opt.step()
    preds = head.predict(f, [{}] * 3)
    for p, r in zip(preds, raw):
        assert p['pred_mode_prob'][0] > 0.9
        assert torch.allclose(p['pred_seq'][0], r[2], atol=1e-5)  # most likely first
        assert torch.all(p['pred_mode_prob'][:-1] >= p['pred_mode_prob'][1:])


def test_classification_head_batch_norm_removes_shared_component():
    """norm='batch' standardises each channel over the batch: a feature offset shared by every
    sample (what a frozen language model's pooled output is dominated by) no longer reaches
    the logits, and the sample-specific part is scaled to unit variance."""
    import pytest

    from allspark.models.heads import LinearClsHead
    torch.manual_seed(0)
    head = LinearClsHead(in_dim=8, num_classes=3, norm='batch').train()
    f = feats(b=16)
    shifted = dict(f, tokens=f['tokens'] * 0.2 + 7.0)  # small per-sample signal, big offset
    assert torch.allclose(head(f), head(shifted), atol=1e-3)
    assert head.state_dict().keys() >= {'norm.running_mean', 'norm.running_var'}
    plain = LinearClsHead(in_dim=8, num_classes=3)
    assert not torch.allclose(plain(f), plain(shifted), atol=1e-3)
    assert LinearClsHead(8, 3, norm='layer')(f).shape == (16, 3)
    with pytest.raises(ValueError, match="norm must be"):
        LinearClsHead(in_dim=8, num_classes=3, norm='group')


def test_regression_heads_take_the_feature_norm_per_token():
    from allspark.models.heads import LinearRegHead
    torch.manual_seed(0)
    head = SequenceRegHead(in_dim=8, horizon=5, channels=2, num_modes=3, norm='batch',
                           source='tokens:x').train()
    f = feats(b=4)
    shifted = dict(f, tokens=f['tokens'] * 0.2 + 3.0)
    assert torch.allclose(head(f), head(shifted), atol=1e-3)
    assert LinearRegHead(in_dim=8, norm='layer')(f).shape == (4, 1)
