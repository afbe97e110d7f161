"""One rank of 2-process gloo DDP training, ``CYCLES`` times in a row (used by
tests/test_reliability_ddp.py): each cycle creates the process group (a new port), trains a tiny
model a few steps, checks the ranks agree and ends with ``finalize_distributed()``; the process
then exits, which is where a rank with a live group used to abort."""
import os
import sys

import torch
import torch.distributed as dist

from allspark.engine.distributed import finalize_distributed


def one_cycle(cycle: int, port: int) -> None:
    os.environ['MASTER_PORT'] = str(port)
    dist.init_process_group('gloo')
    rank = dist.get_rank()
    torch.manual_seed(100 * cycle + rank)
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(16, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(int(os.environ.get('STEPS', '5'))):
        x, y = torch.randn(8, 16), torch.randint(0, 4, (8,))
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    weights = model.module.weight.detach().clone()
    gathered = [torch.empty_like(weights) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, weights)
    assert all(torch.equal(g, weights) for g in gathered), 'ranks diverged'
    finalize_distributed()
    assert not dist.is_initialized()
    print(f'cycle {cycle} rank {rank}: clean shutdown', flush=True)


def main() -> int:
    torch.set_num_threads(1)
    ports = [int(p) for p in os.environ['CYCLE_PORTS'].split(',')]
    for cycle, port in enumerate(ports, 1):
        one_cycle(cycle, port)
    return 0


if __name__ == '__main__':
    sys.exit(main())
