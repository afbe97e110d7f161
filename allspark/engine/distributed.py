"""Clean distributed shutdown: ``finalize_distributed()`` ends ``train`` and ``test``.

Kept free of mmengine imports so a bare ``torch.distributed`` worker can use it cheaply.
"""
from __future__ import annotations


def finalize_distributed(barrier: bool = True) -> None:
    """Destroy the default process group if there is one (end of ``train`` / ``test``): ranks
    that exit with the group alive can abort (``terminate called without an active
    exception``) while gloo's threads still run.  ``barrier`` first waits for every rank (not
    after an error: the other ranks may never arrive)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        try:
            if barrier:
                dist.barrier()
        finally:
            dist.destroy_process_group()
