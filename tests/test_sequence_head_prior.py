"""SequenceRegHead: residuals over a prior forecast (``prior_key``) and a dedicated mean
hypothesis (``mean_mode``), the K = 1 fixes for ETH-UCY (docs/results/trajectory.md)."""
import torch

from allspark.models.heads import SequenceRegHead


def _features(x):
    b = x.shape[0]
    return dict(tokens=x[:, None], mask=torch.ones(b, 1, dtype=torch.bool),
                segments={'prompt': (0, 0), 'x': (0, 1)})


def test_prior_key_starts_at_the_prior_and_learns_the_residual():
    torch.manual_seed(0)
    head = SequenceRegHead(in_dim=4, horizon=3, channels=2, num_modes=1, prior_key='seq_prior',
                           source='modality:x')
    head.set_target_stats([0.0, 0.0], [2.0, 2.0])
    x = torch.randn(16, 4)
    prior = torch.randn(16, 3, 2) * 3
    samples = [dict(seq_prior=p, gt_seq=p + 0.5) for p in prior]
    out = head.predict(_features(x), samples)
    start = torch.stack([o['pred_seq'][0] for o in out])
    assert (start - prior).abs().max() < 0.5 * 2.0  # residual starts near zero
    opt = torch.optim.Adam(head.parameters(), lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        head.loss(_features(x), samples)['loss_seq'].backward()
        opt.step()
    out = head.predict(_features(x), samples)
    pred = torch.stack([o['pred_seq'][0] for o in out])
    assert (pred - (prior + 0.5)).abs().mean() < 0.05


def test_prior_key_missing_field_is_a_clear_error():
    head = SequenceRegHead(in_dim=4, horizon=3, channels=2, prior_key='seq_prior')
    try:
        head.loss(_features(torch.randn(2, 4)), [dict(gt_seq=torch.zeros(3, 2))] * 2)
    except KeyError as exc:
        assert "prior_key='seq_prior'" in str(exc) and 'gt_seq' in str(exc)
    else:
        raise AssertionError('expected a KeyError')


def test_mean_mode_is_hypothesis_zero_and_learns_the_mean():
    """Two equally likely futures (+1 / -1): winner-takes-all hypotheses split them, the mean
    hypothesis (trained on every sample, squared error here) goes to their mean, 0."""
    torch.manual_seed(0)
    head = SequenceRegHead(in_dim=4, horizon=2, channels=1, num_modes=4, mean_mode=True,
                           source='modality:x', loss='mse')
    assert head.mode_scorer.out_features == 3
    x = torch.ones(64, 4)
    samples = [dict(gt_seq=torch.full((2, 1), 1.0 if i % 2 else -1.0)) for i in range(64)]
    opt = torch.optim.Adam(head.parameters(), lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        losses = head.loss(_features(x), samples)
        assert set(losses) == {'loss_mean', 'loss_seq', 'loss_mode'}
        sum(losses.values()).backward()
        opt.step()
    out = head.predict(_features(x[:2]), samples[:2])
    assert out[0]['pred_seq'].shape == (4, 2, 1)  # still K hypotheses in all
    assert abs(float(out[0]['pred_seq'][0].mean())) < 0.1  # the mean
    others = out[0]['pred_seq'][1:].mean((1, 2))
    assert float(others.max()) > 0.8 and float(others.min()) < -0.8  # both futures covered
    assert float(out[0]['pred_mode_prob'][0]) == 1.0
