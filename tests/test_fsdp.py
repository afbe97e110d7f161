"""FSDP through mmengine's FlexibleRunner (issue 16): ``allspark train CONFIG --launcher pytorch
--strategy fsdp`` (here ``tools/dist_train.sh CONFIG 2 --strategy fsdp``), two CPU processes with
gloo, on the quickstart with the tiny language model.

The FSDP run (with the language model's gradient checkpointing on, too) must end with the same
weights as the same run under DDP (SGD: Adam would amplify float noise in gradients that are
zero in exact arithmetic, e.g. attention key biases), write the same slim checkpoint (no frozen
LM weights, the LM's identity recorded before sharding), resume with ``--resume``, and its
checkpoint must load strictly into a plain, unsharded model.
"""
import os
import socket
import subprocess
import sys

import pytest
import torch

from allspark.engine.checkpoint import check_checkpoint_matches
from allspark.models.language_model import decode_identity

ENV = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
SMALL = ['train_dataloader.dataset.num_samples=32', 'val_dataloader.dataset.num_samples=16',
         'test_dataloader.dataset.num_samples=16', 'train_dataloader.batch_size=4',
         'default_hooks.logger.interval=1', 'optim_wrapper.optimizer.type=SGD',
         'optim_wrapper.optimizer.lr=0.05']


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def dist_train(repo_root, work, tiny_lm_dir, epochs, *extra, options=()):
    cmd = ['bash', os.path.join(repo_root, 'tools', 'dist_train.sh'),
           os.path.join(repo_root, 'configs', 'quickstart.py'), '2', '--work-dir', work, *extra,
           '--cfg-options', f'model.language_model.name_or_path={tiny_lm_dir}',
           f'train_cfg.max_epochs={epochs}', 'schedule_follows_run=False', *SMALL, *options]
    out = subprocess.run(cmd, env=dict(ENV, PORT=str(free_port())), cwd=repo_root,
                         capture_output=True, text=True, timeout=400)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-5000:]
    return log


def state(path):
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


def test_fsdp_two_processes_gloo_match_ddp_and_resume(tmp_path, repo_root, tiny_lm_dir):
    fsdp, ddp = str(tmp_path / 'fsdp'), str(tmp_path / 'ddp')
    log = dist_train(repo_root, fsdp, tiny_lm_dir, 2, '--strategy', 'fsdp',
                     options=['model.language_model.gradient_checkpointing=True'])
    assert "strategy = dict(_scope_='allspark', type='FSDPStrategy')" in log
    # 2 BERT layers + the BERT model + its word embeddings + the root
    assert 'FSDP: MMFullyShardedDataParallel with 5 units, use_orig_params=True, state dict ' \
           'FULL_STATE_DICT' in log, log[-3000:]
    dist_train(repo_root, ddp, tiny_lm_dir, 2)

    a, b = state(os.path.join(fsdp, 'epoch_2.pth')), state(os.path.join(ddp, 'epoch_2.pth'))
    assert a.keys() == b.keys()
    # slim: the frozen LM is left out, its identity is in, the same as the unsharded run's
    assert [k for k in a if k.startswith('language_model')] == ['language_model._extra_state']
    ida, idb = (decode_identity(s['language_model._extra_state']) for s in (a, b))
    assert ida == idb and ida['frozen_weights_sha256']
    worst = max((a[k].float() - b[k].float()).abs().max().item() for k in a
                if k != 'language_model._extra_state')
    assert worst < 1e-6, f'FSDP and DDP weights differ by {worst}'

    # the FSDP checkpoint loads strictly into a plain model (allspark test's check)
    from allspark.config import load_config
    from allspark.engine.runner import setup
    from allspark.registry import MODELS

    setup()
    cfg = load_config(os.path.join(repo_root, 'configs', 'quickstart.py'),
                      {'model.language_model.name_or_path': tiny_lm_dir})
    check_checkpoint_matches(MODELS.build(cfg.model), os.path.join(fsdp, 'epoch_2.pth'))

    log = dist_train(repo_root, fsdp, tiny_lm_dir, 3, '--strategy', 'fsdp', '--resume')
    assert 'resumed epoch: 2' in log, log[-3000:]
    assert 'Epoch(train) [3][4/4]' in log
    assert os.path.exists(os.path.join(fsdp, 'epoch_3.pth'))

    # allspark test evaluates the FSDP checkpoint with the Runner, even from a config that names
    # the strategy
    out = subprocess.run(
        [sys.executable, os.path.join(repo_root, 'tools', 'test.py'),
         os.path.join(repo_root, 'configs', 'quickstart.py'), os.path.join(fsdp, 'epoch_3.pth'),
         '--work-dir', str(tmp_path / 'test'), '--cfg-options', 'strategy.type=FSDPStrategy',
         f'model.language_model.name_or_path={tiny_lm_dir}', *SMALL[:3]],
        env=ENV, cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    assert "the config's strategy 'FSDPStrategy' is not used" in out.stderr
    assert '"accuracy"' in out.stdout


def test_strategy_needs_a_launcher():
    from mmengine.config import Config

    from allspark.engine.runner import prepare_config

    cfg = Config(dict(model=dict(type='AllSpark'), work_dir='/tmp/unused'))
    with pytest.raises(ValueError, match='needs distributed processes: start it with torchrun'):
        prepare_config(cfg, strategy='fsdp')
    cfg.strategy = dict(type='FSDPStrategy')
    with pytest.raises(ValueError, match='tools/dist_train.sh CONFIG NPROC'):
        prepare_config(cfg)


def test_fsdp_strategy_resolves_to_allspark_and_cli_names():
    from mmengine.config import Config
    from mmengine.registry import STRATEGIES

    from allspark.engine.fsdp import AllSparkFSDPStrategy
    from allspark.engine.runner import _prepare_strategy

    with STRATEGIES.switch_scope_and_registry('allspark') as registry:
        assert registry.get('FSDPStrategy') is AllSparkFSDPStrategy
        assert registry.get('mmengine.FSDPStrategy') is not AllSparkFSDPStrategy
    cfg = Config(dict(strategy=dict(type='FSDPStrategy', state_dict_cfg='local'),
                      model_wrapper_cfg=dict(type='MMDistributedDataParallel')))
    _prepare_strategy(cfg, 'fsdp', 'pytorch')
    assert cfg.strategy == dict(type='FSDPStrategy', state_dict_cfg='local', _scope_='allspark')
    assert 'model_wrapper_cfg' not in cfg
    _prepare_strategy(cfg, 'ddp', 'pytorch')  # another strategy: the FSDP arguments go
    assert cfg.strategy == dict(type='DDPStrategy', _scope_='allspark')


def test_layer_wrap_policy_units(tiny_lm_dir):
    from allspark.engine.fsdp import is_fsdp_unit, layer_wrap_policy, mark_input_embeddings
    from allspark.models.language_model import HFLanguageModel

    lm = HFLanguageModel(tiny_lm_dir)
    assert is_fsdp_unit(lm.model)  # the whole transformers model
    assert all(is_fsdp_unit(layer) for layer in lm.model.encoder.layer)
    assert not is_fsdp_unit(lm.model.encoder.layer[0].attention)
    assert layer_wrap_policy(lm, True, 0)  # recurse into everything
    assert not is_fsdp_unit(lm.input_embeddings())
    assert mark_input_embeddings(lm) and is_fsdp_unit(lm.input_embeddings())
    gpt2 = HFLanguageModel('unused', from_config=dict(model_type='gpt2', n_layer=1, n_embd=16,
                                                      n_head=2, vocab_size=50, n_positions=32),
                           causal=True)
    assert not mark_input_embeddings(gpt2)  # tied to the LM head: stays in the LM's unit


def test_two_nodes_through_dist_train_env(tmp_path, repo_root, tiny_lm_dir):
    """docs/distributed.md's several-machines recipe, as two one-process "nodes" on this
    machine: ``NNODES=2 NODE_RANK=0|1 MASTER_ADDR=... PORT=... tools/dist_train.sh CONFIG 1``."""
    work, port = str(tmp_path / 'nodes'), str(free_port())
    cmd = ['bash', os.path.join(repo_root, 'tools', 'dist_train.sh'),
           os.path.join(repo_root, 'configs', 'quickstart.py'), '1', '--work-dir', work,
           '--cfg-options', f'model.language_model.name_or_path={tiny_lm_dir}',
           'train_cfg.max_epochs=1', *SMALL]
    nodes = [subprocess.Popen(cmd, env=dict(ENV, NNODES='2', NODE_RANK=str(rank),
                                            MASTER_ADDR='127.0.0.1', PORT=port),
                              cwd=repo_root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for rank in (1, 0)]
    try:
        logs = [node.communicate(timeout=400)[0] for node in nodes]
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
    for node, log in zip(nodes, logs):
        assert node.returncode == 0, log[-3000:]
    # 32 samples over 2 ranks with batch 4: 4 iterations per rank, logged by global rank 0
    assert 'Epoch(train) [1][4/4]' in logs[1], logs[1][-3000:]
    assert os.path.exists(os.path.join(work, 'epoch_1.pth'))
