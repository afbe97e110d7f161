"""Training behaviour: 2-process DDP on CPU (gloo), NaN loss stops with a clear message and keeps
the last good checkpoint, training curves are plotted."""
import os
import socket
import subprocess
import sys

import torch

from allspark.engine.checkpoint import find_resume_checkpoint

ENV = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
SMALL = ['train_dataloader.dataset.num_samples=32', 'val_dataloader.dataset.num_samples=16',
         'test_dataloader.dataset.num_samples=16', 'train_dataloader.batch_size=4',
         'default_hooks.logger.interval=1']


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_process_ddp_on_cpu(tmp_path, repo_root, tiny_lm_dir):
    work = str(tmp_path / 'ddp')
    cmd = ['bash', os.path.join(repo_root, 'tools', 'dist_train.sh'),
           os.path.join(repo_root, 'configs', 'quickstart.py'), '2', '--work-dir', work,
           '--cfg-options', f'model.language_model.name_or_path={tiny_lm_dir}',
           'train_cfg.max_epochs=1', *SMALL]
    out = subprocess.run(cmd, env=dict(ENV, PORT=str(free_port())), cwd=repo_root,
                         capture_output=True, text=True, timeout=300)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    assert 'Distributed launcher: pytorch' in log or 'world_size: 2' in log.replace('\n', ' ')
    assert os.path.exists(os.path.join(work, 'epoch_1.pth'))
    # 32 samples over 2 ranks with batch 4: each rank runs 4 iterations per epoch
    assert 'Epoch(train) [1][4/4]' in log


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, repo_root, tiny_lm_dir):
    work = str(tmp_path / 'nan')
    cmd = [sys.executable, os.path.join(repo_root, 'tools', 'train.py'),
           os.path.join(repo_root, 'configs', 'quickstart.py'), '--work-dir', work,
           '--cfg-options', f'model.language_model.name_or_path={tiny_lm_dir}',
           'train_cfg.max_epochs=3', 'optim_wrapper.optimizer.lr=1e12',
           'optim_wrapper.clip_grad=None', *SMALL]
    out = subprocess.run(cmd, env=ENV, cwd=repo_root, capture_output=True, text=True,
                         timeout=300)
    log = out.stdout + out.stderr
    assert out.returncode != 0
    assert 'FloatingPointError: Loss became nan at iteration' in log or \
        'FloatingPointError: Loss became inf at iteration' in log, log[-3000:]
    last = find_resume_checkpoint(work)
    if last is not None:  # every checkpoint written holds finite weights
        state = torch.load(last, weights_only=True, map_location='cpu')['state_dict']
        assert all(torch.isfinite(v).all() for v in state.values()
                   if isinstance(v, torch.Tensor) and v.is_floating_point())


def test_plot_curves(tmp_path, repo_root, tiny_lm_dir):
    work = str(tmp_path / 'curves')
    subprocess.run([sys.executable, os.path.join(repo_root, 'tools', 'train.py'),
                    os.path.join(repo_root, 'configs', 'quickstart.py'), '--work-dir', work,
                    '--cfg-options', f'model.language_model.name_or_path={tiny_lm_dir}',
                    'train_cfg.max_epochs=2', *SMALL], env=ENV, cwd=repo_root, check=True,
                   capture_output=True, timeout=300)
    png = str(tmp_path / 'curves.png')
    out = subprocess.run([sys.executable, os.path.join(repo_root, 'tools', 'plot_curves.py'),
                          work, '--out', png], env=ENV, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert os.path.getsize(png) > 5000
    assert 'loss' in out.stdout and 'accuracy' in out.stdout
