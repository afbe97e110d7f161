"""Checkpoints that survive failure (issue 15): the new checkpoint is written before old ones go,
a full disk (mocked ENOSPC) loses nothing and ``--resume`` continues from the newest survivor,
stale temp files are cleaned, ``last_checkpoint`` never names a missing file, free space is
checked, the best checkpoint is kept apart from the rolling ones.

Runs are in-process on the quickstart config with a tiny language model (a few seconds each)."""
import errno
import glob
import os

import pytest
import torch

from allspark.engine import checkpoint as ckpt_mod
from allspark.engine.checkpoint import (
    CheckpointSaveError,
    SafeCheckpointHook,
    clean_stale_temp_files,
    find_resume_checkpoint,
    repair_last_checkpoint,
)


def quick_cfg(repo_root, lm, epochs=3, keep=1, **extra):
    from allspark.engine.runner import load_config

    options = {
        'model.language_model.name_or_path': lm,
        'train_dataloader.dataset.num_samples': 8, 'train_dataloader.batch_size': 4,
        'val_dataloader.dataset.num_samples': 8, 'test_dataloader.dataset.num_samples': 8,
        'train_cfg.max_epochs': epochs, 'train_cfg.val_interval': 1,
        'default_hooks.checkpoint.max_keep_ckpts': keep,
        'default_hooks.checkpoint.interval': 1,
        'default_hooks.logger.interval': 1,
    }
    options.update(extra)
    return load_config(os.path.join(repo_root, 'configs', 'quickstart.py'), options)


def train(repo_root, lm, work, resume=None, **kw):
    from allspark.engine.runner import build_runner

    cfg = quick_cfg(repo_root, lm, **kw)
    # a name of its own: mmengine reuses the logger (and its log file) of an earlier run in
    # this process whose name (config + timestamp to the second) is the same
    cfg.experiment_name = str(work).strip(os.sep).replace(os.sep, '_')
    runner = build_runner(cfg, work_dir=str(work), resume=resume)
    runner.train()
    return runner


def last_named(work):
    with open(os.path.join(work, 'last_checkpoint')) as f:
        return f.read().strip()


def log_text(work):
    return '\n'.join(open(p).read() for p in glob.glob(os.path.join(work, '*', '*.log')))


def test_shipped_checkpoint_hook_type_resolves_to_the_safe_hook():
    from mmengine.registry import HOOKS, DefaultScope

    import allspark
    allspark.register_all_modules()
    with DefaultScope.overwrite_default_scope('allspark'):
        hook = HOOKS.build(dict(type='CheckpointHook', interval=1, max_keep_ckpts=1))
    assert isinstance(hook, SafeCheckpointHook)


def test_full_disk_loses_nothing_and_resume_continues(tmp_path, repo_root, tiny_lm_dir,
                                                      monkeypatch):
    work = tmp_path / 'enospc'
    real_write = ckpt_mod._write_all

    def full_disk_at_epoch_3(f, data, tmp):
        if os.path.basename(tmp).startswith('.epoch_3.pth.'):
            f.write(data[:len(data) // 2])  # part of it reaches the disk, then ENOSPC
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_write(f, data, tmp)

    monkeypatch.setattr(ckpt_mod, '_write_all', full_disk_at_epoch_3)
    with pytest.raises(CheckpointSaveError) as info:
        train(repo_root, tiny_lm_dir, work, epochs=3, keep=1)
    msg = str(info.value)
    assert 'epoch_3.pth' in msg and 'disk is full' in msg and 'epoch_2.pth' in msg
    # max_keep_ckpts=1: mmengine would have removed epoch_2 before writing epoch_3
    assert os.path.isfile(work / 'epoch_2.pth')
    assert not os.path.exists(work / 'epoch_3.pth')
    assert last_named(work).endswith('epoch_2.pth') and os.path.isfile(last_named(work))
    assert not glob.glob(str(work / '.*.tmp')), 'the failed temp file was left behind'
    assert ckpt_mod.is_complete_checkpoint(str(work / 'epoch_2.pth'))

    monkeypatch.setattr(ckpt_mod, '_write_all', real_write)  # disk freed
    runner = train(repo_root, tiny_lm_dir, work, resume='auto', epochs=3, keep=1)
    assert runner.epoch == 3
    assert 'resumed' in log_text(work).lower()
    assert os.path.isfile(work / 'epoch_3.pth') and not os.path.exists(work / 'epoch_2.pth')
    assert last_named(work).endswith('epoch_3.pth')
    saved = torch.load(work / 'epoch_3.pth', weights_only=True, map_location='cpu')
    assert saved['meta']['epoch'] == 3


def test_stale_temp_files_removed_and_last_checkpoint_repaired(tmp_path, repo_root,
                                                               tiny_lm_dir):
    work = tmp_path / 'stale'
    train(repo_root, tiny_lm_dir, work, epochs=1, keep=2)
    stale = [work / '.epoch_2.pth.k1ll3d.tmp', work / '.last_checkpoint.x9y8z7.tmp']
    for path in stale:
        path.write_bytes(b'\0' * 4096)  # what a SIGKILL during a save leaves
    (work / 'last_checkpoint').write_text(str(work / 'epoch_7.pth'))  # names a missing file
    assert repair_last_checkpoint(str(work)) == str(work / 'epoch_1.pth')
    assert last_named(work) == str(work / 'epoch_1.pth')
    (work / 'last_checkpoint').write_text(str(work / 'epoch_7.pth'))
    train(repo_root, tiny_lm_dir, work, resume='auto', epochs=2, keep=2)
    assert not any(p.exists() for p in stale)
    assert 'removed 2 temporary file(s)' in log_text(work)
    assert last_named(work).endswith('epoch_2.pth') and os.path.isfile(last_named(work))


def test_clean_stale_temp_files_keeps_other_files(tmp_path):
    keep = [tmp_path / 'epoch_1.pth', tmp_path / 'notes.tmp', tmp_path / '.hidden']
    for p in keep:
        p.write_text('x')
    (tmp_path / '.epoch_1.pth.abcd.tmp').write_text('x')
    removed = clean_stale_temp_files(str(tmp_path))
    assert [os.path.basename(p) for p in removed] == ['.epoch_1.pth.abcd.tmp']
    assert all(p.exists() for p in keep)


def test_last_checkpoint_removed_when_no_checkpoint_survives(tmp_path):
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    assert repair_last_checkpoint(str(tmp_path)) is None
    assert not (tmp_path / 'last_checkpoint').exists()


def test_low_free_space_warns_early(tmp_path, repo_root, tiny_lm_dir, monkeypatch):
    work = tmp_path / 'space'
    monkeypatch.setattr(ckpt_mod, 'free_bytes', lambda folder: 1024)
    train(repo_root, tiny_lm_dir, work, epochs=1, keep=1)
    log = log_text(work)
    assert 'only 0.0 MB free in' in log and 'the next save will probably fail' in log
    assert '(checked at the start of training)' not in log or 'CheckpointHook' in log


def test_free_space_for_fewer_than_three_saves_is_a_warning(tmp_path, repo_root, tiny_lm_dir,
                                                            monkeypatch):
    work = tmp_path / 'space2'
    monkeypatch.setattr(ckpt_mod, 'estimate_checkpoint_bytes', lambda runner, out: 100 * 2 ** 20)
    monkeypatch.setattr(ckpt_mod, 'free_bytes', lambda folder: 250 * 2 ** 20)
    train(repo_root, tiny_lm_dir, work, epochs=1, keep=1)
    log = log_text(work)
    assert 'holds fewer than 3 more checkpoints' in log
    assert '(checked at the start of training)' in log


def test_best_checkpoint_kept_apart_from_rolling_ones(tmp_path, repo_root, tiny_lm_dir):
    work = tmp_path / 'best'
    train(repo_root, tiny_lm_dir, work, epochs=3, keep=1,
          **{'default_hooks.checkpoint.save_best': 'accuracy',
             'default_hooks.checkpoint.rule': 'greater'})
    best = glob.glob(str(work / 'best_accuracy_epoch_*.pth'))
    rolling = sorted(os.path.basename(p) for p in glob.glob(str(work / 'epoch_*.pth')))
    assert len(best) == 1 and ckpt_mod.is_complete_checkpoint(best[0])
    assert rolling == ['epoch_3.pth']  # max_keep_ckpts=1 never touches the best file
    assert find_resume_checkpoint(str(work)).endswith('epoch_3.pth')
    os.remove(work / 'last_checkpoint')
    os.remove(work / 'epoch_3.pth')
    # with no rolling checkpoint left, resume never picks the best file (no optimizer state)
    assert find_resume_checkpoint(str(work)) is None


def test_new_best_written_before_the_previous_best_goes(tmp_path, repo_root, tiny_lm_dir,
                                                       monkeypatch):
    work = tmp_path / 'best_fail'
    runner = train(repo_root, tiny_lm_dir, work, epochs=1, keep=1,
                   **{'default_hooks.checkpoint.save_best': 'accuracy',
                      'default_hooks.checkpoint.rule': 'greater'})
    hook = next(h for h in runner.hooks if isinstance(h, SafeCheckpointHook))
    runner.train_loop._epoch = 5  # the next best gets another name: best_accuracy_epoch_5.pth
    first = hook.best_ckpt_path
    assert first and os.path.isfile(first)
    real_write = ckpt_mod._write_all

    def full_disk_for_best(f, data, tmp):
        if os.path.basename(tmp).startswith('.best_'):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_write(f, data, tmp)

    monkeypatch.setattr(ckpt_mod, '_write_all', full_disk_for_best)
    with pytest.raises(OSError):
        hook._save_best_checkpoint(runner, {'accuracy': 1e9})
    assert os.path.isfile(first) and hook.best_ckpt_path == first  # mmengine removed it first
    monkeypatch.setattr(ckpt_mod, '_write_all', real_write)
    hook._save_best_checkpoint(runner, {'accuracy': 2e9})
    assert hook.best_ckpt_path.endswith('best_accuracy_epoch_5.pth')
    assert os.path.isfile(hook.best_ckpt_path) and not os.path.exists(first)


def test_interval_zero_is_refused_by_the_hook():
    with pytest.raises(ValueError, match='interval must be > 0'):
        SafeCheckpointHook(interval=0)


def test_allspark_test_refuses_mismatched_weights(tmp_path, repo_root, tiny_lm_dir, capsys):
    """``allspark test`` scores a matching checkpoint, refuses an empty / foreign one naming the
    file and keys, and ``--strict false`` is the only way past the refusal."""
    from allspark.commands import test as test_command
    from allspark.engine.checkpoint import CheckpointMismatchError

    work = tmp_path / 'eval'
    train(repo_root, tiny_lm_dir, work, epochs=1, keep=1)
    good = str(work / 'epoch_1.pth')
    options = ['--cfg-options', f'model.language_model.name_or_path={tiny_lm_dir}',
               'test_dataloader.dataset.num_samples=8', '--work-dir', str(tmp_path / 'w')]
    config = os.path.join(repo_root, 'configs', 'quickstart.py')
    assert test_command.main([config, good, *options]) == 0
    assert '"accuracy"' in capsys.readouterr().out

    saved = torch.load(good, weights_only=True, map_location='cpu')
    empty, foreign = str(tmp_path / 'empty.pth'), str(tmp_path / 'foreign.pth')
    torch.save(dict(saved, state_dict={}), empty)
    state = dict(saved['state_dict'])
    key = next(k for k in state if k.endswith('weight') and state[k].dim() == 2)
    state[key] = torch.zeros(state[key].shape[0] + 1, state[key].shape[1])
    state['other_net.fc.weight'] = torch.zeros(2, 2)
    torch.save(dict(saved, state_dict=state), foreign)
    with pytest.raises(CheckpointMismatchError, match=r'empty.pth: has no weights'):
        test_command.main([config, empty, *options])
    with pytest.raises(CheckpointMismatchError) as info:
        test_command.main([config, foreign, *options])
    msg = str(info.value)
    assert 'foreign.pth' in msg and key in msg and "'other_net.fc.weight'" in msg
    assert '--strict false' in msg
    empty_ok = torch.load(empty, weights_only=True)
    assert empty_ok['state_dict'] == {}
    with pytest.warns(UserWarning, match='empty.pth'):
        assert test_command.main([config, empty, *options, '--strict', 'false']) == 0
