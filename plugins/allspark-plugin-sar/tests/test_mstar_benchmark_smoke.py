"""Smoke test of ``allspark benchmark mstar``: SOC on JPEG fixtures, two seeds, one epoch of
each model with a tiny language model; the JSON is labelled with the condition it ran on."""
import json
import os

from sar_fixtures import write_jpeg_tree

from allspark_plugin_sar.benchmarks import mstar


def test_mstar_benchmark_soc_labels_outputs(tmp_path):
    root = write_jpeg_tree(str(tmp_path / 'mstar'), per_class=4,
                           sizes=((100, 100), (101, 102), (104, 104)))
    out = tmp_path / 'out'
    assert mstar.main(['--data-root', root, '--eoc-root', str(tmp_path / 'absent'),
                       '--seeds', '0', '1', '--smoke', '--out', str(out)]) == 0
    report = json.loads((out / 'mstar_benchmark.json').read_text())
    assert report['benchmark'] == 'mstar' and report['split_kind'] == 'condition'
    assert list(report['splits']) == ['soc'] and report['seeds'] == [0, 1]
    assert report['selection']['test_data_used_for_selection'] is False
    soc = report['splits']['soc']
    assert soc['label'] == 'MSTAR SOC (train 17 deg, test 15 deg)'
    assert soc['test_chips'] == 12
    for model in ('allspark', 'aconvnets'):
        runs = soc['runs'][model]
        assert [r['seed'] for r in runs] == [0, 1]
        assert all(r['total'] == 12 and len(r['accuracy_ci95_wilson']) == 2 for r in runs)
        assert soc['aggregate'][model]['accuracy']['n'] == 2
        assert os.path.getsize(runs[0]['confusion_png']) > 1000
    assert soc['verdict']['accuracy']['strongest_baseline'] == 'aconvnets'
    assert 'soc' in os.path.basename(soc['runs']['aconvnets'][0]['confusion_png'])


def test_mstar_benchmark_extended_condition_class_subset(tmp_path):
    """An EOC-2-like condition: test chips of one class in serial sub-folders, no sibling
    train/, the class list from its train_list.csv; training uses those SOC classes only."""
    root = write_jpeg_tree(str(tmp_path / 'mstar'), per_class=4)
    cond = tmp_path / 'eoc' / 'configuration_fixture'
    write_jpeg_tree(str(cond / 'test'), classes=('A32', 'S7'), splits=('T72',), per_class=3,
                    seed=1)  # -> test/T72/<serial>/*.JPG
    (cond / 'train_list.csv').write_text(
        'file_relative_to_shared_data,class\nmstar/train/BMP2/a.jpeg,BMP2\n'
        'mstar/train/T72/b.jpeg,T72\n')
    out = tmp_path / 'out'
    assert mstar.main(['--data-root', root, '--eoc-root', str(tmp_path / 'eoc'),
                       '--conditions', 'configuration_fixture', '--seeds', '0', '--smoke',
                       '--out', str(out)]) == 0
    report = json.loads((out / 'mstar_benchmark.json').read_text())
    split = report['splits']['configuration_fixture']
    assert list(report['splits']) == ['configuration_fixture']
    assert split['label'] == 'MSTAR configuration_fixture'
    assert split['classes'] == ['BMP2', 'T72'] and split['test_chips'] == 6
    assert split['test_root'] == str(cond) and split['train_root'] == os.path.abspath(root)
    assert split['train_list'].endswith('train_list.csv')
    for model in ('allspark', 'aconvnets'):
        (run,) = split['runs'][model]
        assert run['total'] == 6 and 'configuration_fixture' in run['confusion_png']
