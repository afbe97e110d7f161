"""A run killed with SIGKILL mid-training and resumed ends bit-identical to an uninterrupted one;
checkpoints load with weights_only=True and are written atomically."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from allspark.engine.checkpoint import atomic_write, find_resume_checkpoint, register_safe_globals

CONFIG = '''
_base_ = ['{repo}/configs/quickstart.py']
model = dict(
    modalities=dict(image=dict(bridge=dict(type='PerceiverBridge', num_queries=4, depth=1,
                                           num_heads=4, dropout=0.1))),
    language_model=dict(type='HFLanguageModel', name_or_path='{lm}'))
train_dataloader = dict(batch_size=8, dataset=dict(num_samples=48, pipeline=[
    dict(type='RandomFlip', keys='image', prob=0.5, directions=['horizontal', 'vertical'])]))
val_dataloader = dict(dataset=dict(num_samples=16))
test_dataloader = dict(dataset=dict(num_samples=16))
train_cfg = dict(_delete_=True, by_epoch=False, max_iters={iters}, val_interval=1000)
param_scheduler = [dict(type='LinearLR', by_epoch=False, start_factor=0.1, begin=0, end={iters})]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False,
                                     max_keep_ckpts=100),
                     logger=dict(type='LoggerHook', interval=1))
log_processor = dict(by_epoch=False)
'''


def write_config(tmp_path, repo_root, lm, iters):
    path = tmp_path / 'resume_cfg.py'
    path.write_text(CONFIG.format(repo=repo_root, lm=lm, iters=iters))
    return str(path)


def train_cmd(repo_root, cfg, work_dir, *extra):
    return [sys.executable, os.path.join(repo_root, 'tools', 'train.py'), cfg,
            '--work-dir', work_dir, *extra]


def final_state(work_dir, iters):
    register_safe_globals()
    ckpt = torch.load(os.path.join(work_dir, f'iter_{iters}.pth'), map_location='cpu',
                      weights_only=True)
    return ckpt['state_dict'], ckpt


ENV = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')


def test_sigkill_then_resume_is_bit_identical(tmp_path, repo_root, tiny_lm_dir):
    iters = 12
    cfg = write_config(tmp_path, repo_root, tiny_lm_dir, iters)
    ref_dir, run_dir = str(tmp_path / 'ref'), str(tmp_path / 'run')
    subprocess.run(train_cmd(repo_root, cfg, ref_dir), check=True, env=ENV, cwd=repo_root,
                   capture_output=True, timeout=300)

    proc = subprocess.Popen(train_cmd(repo_root, cfg, run_dir), env=ENV, cwd=repo_root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not os.path.exists(os.path.join(run_dir, 'iter_4.pth')):
        assert proc.poll() is None, 'training ended before it could be killed'
        assert time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not os.path.exists(os.path.join(run_dir, f'iter_{iters}.pth')), 'killed too late'
    killed_at = find_resume_checkpoint(run_dir)
    assert killed_at is not None

    out = subprocess.run(train_cmd(repo_root, cfg, run_dir, '--resume'), env=ENV, cwd=repo_root,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'resumed' in (out.stdout + out.stderr).lower()

    ref, ref_ckpt = final_state(ref_dir, iters)
    got, got_ckpt = final_state(run_dir, iters)
    assert ref.keys() == got.keys()
    for key in ref:
        if isinstance(ref[key], torch.Tensor):
            assert torch.equal(ref[key], got[key]), f'{key} differs after resume'
    # the optimizer state matches too
    for a, b in zip(ref_ckpt['optimizer']['state'].values(),
                    got_ckpt['optimizer']['state'].values()):
        assert torch.equal(a['exp_avg'], b['exp_avg'])


def test_truncated_checkpoint_is_skipped_on_resume(tmp_path):
    good = tmp_path / 'iter_2.pth'
    torch.save({'state_dict': {'w': torch.ones(3)}}, good)
    bad = tmp_path / 'iter_4.pth'
    bad.write_bytes(good.read_bytes()[:40])  # as if killed while writing, without atomicity
    (tmp_path / 'last_checkpoint').write_text(str(bad))
    assert find_resume_checkpoint(str(tmp_path)) == str(good)


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / 'ckpt.pth'
    atomic_write(b'old', str(target))

    class Boom(bytes):
        pass

    with pytest.raises(TypeError):
        atomic_write(object(), str(target))  # fails mid-write
    assert target.read_bytes() == b'old'
    assert [p.name for p in tmp_path.iterdir()] == ['ckpt.pth']  # no temporary left behind
