"""``allspark benchmark CONFIG``: the profile's parts are all there and consistent (behaviour, not
timings), the command and the tools wrapper reach it, and a training start imports no peft."""
import json
import os
import subprocess
import sys

import pytest
import torch

from allspark import profiling


def test_profile_of_the_quickstart(tmp_path, repo_root, tiny_lm_dir):
    out = tmp_path / 'bench'
    rc = profiling.main([os.path.join(repo_root, 'configs', 'quickstart.py'), '--tiny-lm',
                         '--iters', '2', '--rounds', '1', '--warmup', '1', '--num-batches', '2',
                         '--batch-size', '4', '--workers', '0', '--loader-batches', '2',
                         '--precision', 'fp32', '--compare-precisions', '--out', str(out)])
    assert rc == 0
    files = list(out.glob('*.json'))
    assert len(files) == 1
    r = json.loads(files[0].read_text())
    assert r['batch_size'] == 4 and r['training_precision'] == 'float32'
    ts = r['train_step']
    assert ts['hand']['n'] == 2 and ts['runner']['n'] == 2
    assert ts['overhead_ratio'] == pytest.approx(ts['runner']['median'] / ts['hand']['median'])
    comps = r['forward_backward']['components']
    assert {'encoder.image', 'bridge.image', 'language_model', 'head'} <= set(comps)
    # every FLOP-bearing component is counted, and the parts add up to the whole step
    assert comps['language_model']['flops'] > 0 and comps['bridge.image']['flops'] > 0
    assert sum(c['flops'] for c in comps.values()) >= r['forward_backward']['flops']
    # the frozen LM's backward to its inputs (what trains the encoder and bridge) is the LM's,
    # not "rest": replaying it under no_grad once moved a third of the step's FLOPs there
    rest = comps['rest (preprocess, sequence assembly, loss)']['flops']
    assert rest <= 0.1 * r['forward_backward']['flops'], (rest, r['forward_backward']['flops'])
    assert 'replay_sum_share' in r['forward_backward']
    limit = r['matmul_limit']
    assert limit['gemm_flops'] > 0 and limit['float32']['gflops'] > 0 \
        and limit['bfloat16']['gflops'] > 0
    assert r['inference']['samples_per_s'] > 0 and r['peak_memory_mb'] > 0
    assert r['loader']['workers']['0']['samples'] == 8   # 2 batches of 4
    # float32 vs bfloat16 on the same model and batches, interleaved: rounds x iters each
    for job in ('train_step', 'inference'):
        both = r['precision_comparison'][job]
        assert both['float32']['n'] == both['bfloat16']['n'] == 2
        assert both['speedup'] == pytest.approx(both['float32']['median']
                                                / both['bfloat16']['median'])
    # the docs' table: one row per profile; the interleaved comparison is its precision column,
    # and without one the same profile given as its own "other precision" reads x1.00
    table = profiling.markdown_summary([str(out)], alt_folder=str(out)).splitlines()
    assert len(table) == 3 and '`' + r['config'] + '`' in table[2]
    speedup = r['precision_comparison']['train_step']['speedup']
    assert '| float32, 4 |' in table[2] and f'(x{speedup:.2f}, interleaved)' in table[2]
    del r['precision_comparison']
    files[0].write_text(json.dumps(r))
    table = profiling.markdown_summary([str(out)], alt_folder=str(out)).splitlines()
    assert '(x1.00)' in table[2]


def test_gemm_recorder_and_flop_counter_agree():
    a, b = torch.randn(6, 5), torch.randn(5, 7)
    gemms = profiling.record_gemms(lambda: (a @ b, torch.bmm(a[None], b[None])))
    assert gemms == {('mm', 1, 6, 5, 7): 1, ('bmm', 1, 6, 5, 7): 1}
    assert profiling.count_flops(lambda: a @ b) == 2 * 6 * 5 * 7
    s = profiling.summarize([3.0, 1.0, 2.0])
    assert s['median'] == 2.0 and s['min'] == 1.0 and s['n'] == 3


def test_cpu_fused_attention_is_counted():
    # torch's counter knows the CUDA fused kernels only; on a CPU SDPA counted 0 FLOPs
    import torch.nn.functional as F
    q, k, v = (torch.randn(2, 4, 16, 8) for _ in range(3))
    eager = profiling.count_flops(lambda: (q @ k.transpose(-1, -2)).softmax(-1) @ v)
    assert profiling.count_flops(lambda: F.scaled_dot_product_attention(q, k, v)) == eager > 0


def test_benchmark_command_and_wrapper_reach_the_profiler(monkeypatch, repo_root):
    seen = []
    monkeypatch.setattr(profiling, 'main', lambda argv=None: seen.append(argv) or 0)
    from allspark.commands import benchmark
    assert benchmark.main(['configs/quickstart.py', '--iters', '3']) == 0
    assert seen == [['configs/quickstart.py', '--iters', '3']]
    source = open(os.path.join(repo_root, 'tools', 'benchmark.py')).read()
    assert 'from allspark.profiling import main' in source and 'sys.path' not in source


def test_a_training_start_imports_no_peft(repo_root):
    code = ('import sys, allspark.engine.runner, mmengine.runner, allspark.models.allspark; '
            'print("peft" in sys.modules)')
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env.pop('ALLSPARK_EAGER_PEFT', None)
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         cwd=repo_root, env=env, timeout=300)
    assert out.stdout.strip().splitlines()[-1] == 'False', out.stderr[-2000:]


def test_listing_plugins_imports_no_heavy_module(repo_root):
    """``allspark plugins`` lists lazy plugins from their specs: no torch, no mmengine.model,
    no transformers (the core's own modules are registered only when a plugin is imported)."""
    code = ('import sys, io, contextlib\n'
            'from allspark.commands import plugins\n'
            'with contextlib.redirect_stdout(io.StringIO()) as out:\n'
            '    rc = plugins.main([])\n'
            'assert rc == 0 and "sar " in out.getvalue(), out.getvalue()\n'
            'print(sorted(m for m in ("torch", "mmengine.model", "transformers", "peft") '
            'if m in sys.modules))')
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env.pop('ALLSPARK_EAGER_PLUGINS', None)
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         cwd=repo_root, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == '[]', out.stdout


def test_env_logging_does_not_import_torchvision(repo_root):
    """Every Runner logs mmengine's collect_env, which imported torchvision (~3 CPU-s of a
    training start) just for its version: the version is still logged, torchvision is not
    imported."""
    code = ('import sys\n'
            'from allspark.engine import runner\n'
            'runner.setup()\n'
            'import mmengine.runner.runner as mm\n'
            'env = mm.collect_env()\n'
            'print(env.get("TorchVision"), "torchvision" in sys.modules)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         cwd=repo_root, env=dict(os.environ, OMP_NUM_THREADS='1'), timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    version, imported = out.stdout.split()[-2:]
    from importlib import metadata
    try:
        expected = metadata.version('torchvision')
    except metadata.PackageNotFoundError:
        expected = 'None'
    assert (version, imported) == (expected, 'False')


def test_startup_probes_separate_the_framework_from_the_model(tmp_path, repo_root, tiny_lm_dir):
    """``allspark benchmark --startup``: every probe runs in a fresh interpreter, and the Runner
    path's share is reported against the same model and batch built by hand."""
    cfg = tmp_path / 'tiny_quickstart.py'
    cfg.write_text(
        f"_base_ = [{os.path.join(repo_root, 'configs', 'quickstart.py')!r}]\n"
        f"model = dict(language_model=dict(name_or_path={tiny_lm_dir!r}))\n"
        "train_dataloader = dict(batch_size=4, dataset=dict(num_samples=8))\n"
        "val_dataloader = dict(dataset=dict(num_samples=8))\n"
        "test_dataloader = val_dataloader\n")
    out = profiling.startup_times(str(cfg), repeats=1)
    assert set(out) == {'import torch', 'allspark plugins',
                        'model and first batch, hand-written (no Runner)',
                        'training start (to the first iteration)'}
    for probe in out.values():
        assert probe['cpu_s']['median'] > 0 and probe['wall_s']['n'] == 1
    start = out['training start (to the first iteration)']
    hand = out['model and first batch, hand-written (no Runner)']
    assert start['framework_cpu_s_above_hand_written'] == pytest.approx(
        start['cpu_s']['median'] - hand['cpu_s']['median'])
    # both builds import torch and the language model's libraries
    assert hand['cpu_s_above_import_torch'] > 0
