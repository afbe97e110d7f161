"""Loading safety, wrong weights, config values and training health (issue 15).

* every ``torch.load`` mmengine reaches passes ``weights_only=True`` explicitly, so
  ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` cannot run a malicious checkpoint's payload, and the
  refusal names the file without advising to turn the check off;
* ``check_checkpoint_matches`` refuses empty / missing state dicts and other architectures;
* config values that would train wrong are refused at build time, naming the key;
* an exploding (finite) loss stops or warns naming the iteration; the NaN message names the
  checkpoint that exists, or says there is none.
"""
import os
import types

import pytest
import torch

from allspark.engine.checkpoint import (
    CheckpointError,
    CheckpointMismatchError,
    CheckpointRefusedError,
    check_checkpoint_matches,
    install_safe_loaders,
    safe_torch_load,
)


class Payload:
    """Unpickling this runs code (what a malicious checkpoint does)."""

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def malicious_checkpoint(tmp_path):
    marker = tmp_path / 'PWNED'
    evil = Payload()
    evil.marker = marker
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'meta': evil}, path)
    return str(path), marker


@pytest.mark.parametrize('entry', ['CheckpointLoader', '_load_checkpoint', 'load_checkpoint',
                                   'safe_torch_load'])
def test_force_no_weights_only_env_cannot_run_a_payload(tmp_path, monkeypatch, entry):
    from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint, load_checkpoint

    install_safe_loaders()
    path, marker = malicious_checkpoint(tmp_path)
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    call = {'CheckpointLoader': lambda: CheckpointLoader.load_checkpoint(path, 'cpu'),
            '_load_checkpoint': lambda: _load_checkpoint(path, 'cpu'),
            'load_checkpoint': lambda: load_checkpoint(torch.nn.Linear(1, 1), path, 'cpu'),
            'safe_torch_load': lambda: safe_torch_load(path)}[entry]
    with pytest.raises(CheckpointRefusedError) as info:
        call()
    msg = str(info.value)
    assert not marker.exists(), 'the payload ran'
    assert path in msg and ('posix.system' in msg or 'os.system' in msg)
    advice = msg.replace(path, '')
    assert 'weights_only' not in advice and 'TORCH_FORCE' not in advice


def test_runner_resume_path_is_safe(tmp_path, monkeypatch):
    """``Runner.resume`` / ``Runner.load_checkpoint`` go through ``_load_checkpoint``, which uses
    ``CheckpointLoader``: every scheme is replaced by a weights_only=True loader."""
    from mmengine.runner.checkpoint import CheckpointLoader

    from allspark.engine.runner import setup
    setup()
    assert all(getattr(loader, '_allspark_safe', False)
               for loader in CheckpointLoader._schemes.values())


def test_truncated_and_missing_checkpoints_name_the_file(tmp_path):
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.zeros(3)}}, good)
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(CheckpointError, match='cut.pth: not a readable checkpoint'):
        safe_torch_load(str(cut))
    with pytest.raises(CheckpointError, match='checkpoint not found: .*nope.pth'):
        safe_torch_load(str(tmp_path / 'nope.pth'))


class Net(torch.nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.fc = torch.nn.Linear(width, 2)
        self.norm = torch.nn.LayerNorm(2)


def test_matching_checkpoint_passes(tmp_path):
    net = Net()
    path = tmp_path / 'ok.pth'
    torch.save({'state_dict': {'module.' + k: v for k, v in net.state_dict().items()}}, path)
    report = check_checkpoint_matches(net, str(path))
    assert report == dict(missing=[], unexpected=[], shape=[])


@pytest.mark.parametrize('content,expected', [
    ({'state_dict': {}}, 'state_dict is empty'),
    ({'meta': {'epoch': 1}}, 'state_dict is missing'),
    ({'state_dict': {'fc.weight': torch.zeros(2, 4)}}, "missing key(s): 'fc.bias'"),
    ('other', "shape mismatch(es): 'fc.weight' (model (2, 4), file (2, 8))"),
    ('extra', "unexpected key(s): 'head.weight'"),
])
def test_mismatched_checkpoint_refused_naming_file_and_keys(tmp_path, content, expected):
    net = Net()
    if content == 'other':
        content = {'state_dict': Net(width=8).state_dict()}
    elif content == 'extra':
        content = {'state_dict': dict(net.state_dict(), **{'head.weight': torch.zeros(1)})}
    path = tmp_path / 'wrong.pth'
    torch.save(content, path)
    with pytest.raises(CheckpointMismatchError) as info:
        check_checkpoint_matches(net, str(path))
    msg = str(info.value)
    assert str(path) in msg and expected in msg and '--strict false' in msg
    with pytest.warns(UserWarning, match='wrong.pth'):
        check_checkpoint_matches(net, str(path), strict=False)


def test_reference_is_what_the_model_saves(tmp_path):
    """A model that leaves parameters out of its own state_dict (e.g. a frozen language model)
    is compared against what it saves, so its own checkpoints pass."""

    class Lean(Net):
        def state_dict(self, *args, **kwargs):
            state = super().state_dict(*args, **kwargs)
            return {k: v for k, v in state.items() if not k.startswith('norm.')}

    net = Lean()
    path = tmp_path / 'lean.pth'
    torch.save({'state_dict': net.state_dict()}, path)
    check_checkpoint_matches(net, str(path))


# ------------------------------------------------------------------------------ config values
@pytest.mark.parametrize('option,value,key', [
    ('optim_wrapper.clip_grad.max_norm', -1, 'optim_wrapper.clip_grad.max_norm'),
    ('optim_wrapper.clip_grad.max_norm', 0, 'optim_wrapper.clip_grad.max_norm'),
    ('default_hooks.checkpoint.interval', 0, 'default_hooks.checkpoint.interval'),
    ('default_hooks.logger.interval', -5, 'default_hooks.logger.interval'),
    ('train_cfg.max_epochs', 0, 'train_cfg.max_epochs'),
    ('train_cfg.max_epochs', -2, 'train_cfg.max_epochs'),
    ('train_cfg.val_interval', 0, 'train_cfg.val_interval'),
    ('train_dataloader.batch_size', 0, 'train_dataloader.batch_size'),
    ('val_dataloader.batch_size', -1, 'val_dataloader.batch_size'),
    ('train_dataloader.dataset.num_samples', 0, 'train_dataloader.dataset.num_samples'),
])
def test_bad_config_values_refused_naming_the_key(repo_root, option, value, key):
    from allspark.engine.config_check import ConfigValueError
    from allspark.engine.runner import load_config, prepare_config

    cfg = load_config(os.path.join(repo_root, 'configs', 'quickstart.py'), {option: value})
    with pytest.raises(ConfigValueError) as info:
        prepare_config(cfg, work_dir='unused')
    assert f'{key} must be > 0, got {value}' in str(info.value)
    assert 'quickstart.py' in str(info.value)


def test_max_iters_zero_refused(repo_root):
    from allspark.engine.config_check import ConfigValueError, validate_config

    with pytest.raises(ConfigValueError, match='train_cfg.max_iters must be > 0, got 0'):
        validate_config(dict(train_cfg=dict(by_epoch=False, max_iters=0)))


def test_shipped_configs_pass_validation(repo_root):
    import glob

    from allspark.engine.config_check import validate_config
    from allspark.engine.runner import load_config

    paths = sorted(glob.glob(os.path.join(repo_root, 'configs', '*.py')))
    paths += sorted(glob.glob(os.path.join(repo_root, 'plugins', '*', 'allspark_plugin_*',
                                           'configs', '*.py')))
    assert paths
    for path in paths:
        validate_config(load_config(path))


# ------------------------------------------------------------------------------ health
def fake_runner(tmp_path, it=0):
    logs = []
    logger = types.SimpleNamespace(warning=logs.append, info=logs.append)
    return types.SimpleNamespace(iter=it, work_dir=str(tmp_path), logger=logger), logs


def feed(hook, runner, losses):
    for i, loss in enumerate(losses):
        runner.iter = i
        hook.after_train_iter(runner, i, outputs={'loss': torch.tensor(loss)})


def test_exploding_loss_stops_naming_the_iteration(tmp_path):
    from allspark.engine.health import TrainingHealthError, TrainingHealthHook

    hook = TrainingHealthHook(factor=100, window=20, min_history=5)
    runner, _ = fake_runner(tmp_path)
    with pytest.raises(TrainingHealthError) as info:
        feed(hook, runner, [2.2, 2.1, 2.0, 2.05, 1.9, 1.95, 3.0, 1.7e5])
    msg = str(info.value)
    assert 'iteration 8' in msg and '170000' in msg and 'median' in msg
    assert 'no checkpoint has been saved yet' in msg


def test_exploding_loss_warns_per_config(tmp_path):
    from allspark.engine.health import TrainingHealthHook

    hook = TrainingHealthHook(factor=100, window=20, min_history=5, action='warn')
    runner, logs = fake_runner(tmp_path)
    feed(hook, runner, [2.2, 2.1, 2.0, 2.05, 1.9, 1.95, 1.7e5, 2.0])
    assert len(logs) == 1 and 'iteration 7' in logs[0] and 'Carrying on' in logs[0]


def test_a_steady_or_falling_loss_passes(tmp_path):
    from allspark.engine.health import TrainingHealthHook

    hook = TrainingHealthHook(factor=10, window=10, min_history=3)
    runner, logs = fake_runner(tmp_path)
    losses = [5.0 * 0.9 ** i for i in range(30)]
    feed(hook, runner, losses + [5 * losses[-1]] * 3)  # a noisy bump, well under 10 x
    assert logs == []


def test_health_hook_refuses_bad_settings():
    from allspark.engine.health import TrainingHealthHook

    with pytest.raises(ValueError, match='action'):
        TrainingHealthHook(action='ignore')
    with pytest.raises(ValueError, match='factor must be > 1'):
        TrainingHealthHook(factor=0.5)


def test_checkpoint_status_names_the_surviving_checkpoint(tmp_path):
    from allspark.engine.checkpoint import atomic_write
    from allspark.engine.health import checkpoint_status

    assert 'no checkpoint has been saved yet' in checkpoint_status(str(tmp_path))
    path = tmp_path / 'iter_4.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}}, path)
    atomic_write(str(path), str(tmp_path / 'last_checkpoint'))
    status = checkpoint_status(str(tmp_path))
    assert str(path) in status and 'intact' in status


def test_nan_loss_message_says_no_checkpoint_exists(tmp_path, repo_root, tiny_lm_dir):
    from allspark.engine.runner import build_runner, load_config

    cfg = load_config(os.path.join(repo_root, 'configs', 'quickstart.py'), {
        'model.language_model.name_or_path': tiny_lm_dir,
        'train_dataloader.dataset.num_samples': 8, 'train_dataloader.batch_size': 4,
        'optim_wrapper.optimizer.lr': 1e30, 'optim_wrapper.clip_grad': None,
        'train_cfg.max_epochs': 4})
    runner = build_runner(cfg, work_dir=str(tmp_path / 'nan'))
    with pytest.raises(FloatingPointError) as info:
        runner.train()
    msg = str(info.value)
    assert 'Loss became' in msg
    # epoch checkpoints: the NaN comes within the first epoch, so none exists yet
    assert 'no checkpoint has been saved yet in' in msg or 'is intact' in msg
    assert 'the last saved checkpoint is intact' not in msg
