"""Clean distributed shutdown (issue 15): 2-process gloo DDP passes 10 times in a row under an
extra CPU load, each cycle ending with ``finalize_distributed`` (the process group destroyed),
then both processes exit 0 with no ``terminate called`` abort.

The ten cycles run inside one pair of processes (start-up, i.e. importing torch, dominates a
run on a loaded CPU: ~1.5 min per pair here); the full ``allspark train`` DDP path, which calls
the same ``finalize_distributed``, is ``test_two_process_ddp_on_cpu`` in tests/test_training.py.
"""
import os
import socket
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
RUNS = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def busy_cpu():
    """One extra process that keeps a core busy for the whole test."""
    hog = subprocess.Popen([sys.executable, '-c', 'while True: pass'])
    yield hog
    hog.kill()
    hog.wait()


def run_pair(repo_root: str, cycles: int) -> list[subprocess.CompletedProcess]:
    ports = ','.join(str(free_port()) for _ in range(cycles))
    env = dict(os.environ, MASTER_ADDR='127.0.0.1', WORLD_SIZE='2', CYCLE_PORTS=ports,
               OMP_NUM_THREADS='1', PYTHONPATH=repo_root)
    procs = [subprocess.Popen([sys.executable, os.path.join(HERE, 'ddp_reliability_worker.py')],
                              env=dict(env, RANK=str(r), LOCAL_RANK=str(r)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for r in range(2)]
    out = []
    try:
        for p in procs:
            stdout, stderr = p.communicate(timeout=600)
            out.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return out


def test_two_process_ddp_exits_cleanly_ten_times_under_load(repo_root, busy_cpu):
    results = run_pair(repo_root, RUNS)
    for rank, res in enumerate(results):
        log = res.stdout + res.stderr
        assert res.returncode == 0, f'rank {rank}: exit {res.returncode}\n{log[-4000:]}'
        assert 'terminate called' not in log, f'rank {rank}:\n{log[-4000:]}'
        for cycle in range(1, RUNS + 1):
            assert f'cycle {cycle} rank {rank}: clean shutdown' in res.stdout, log[-4000:]
    assert busy_cpu.poll() is None  # the load was there all along


def test_finalize_distributed_without_a_group_is_a_no_op():
    from allspark.engine.health import finalize_distributed

    finalize_distributed()
    finalize_distributed(barrier=False)
