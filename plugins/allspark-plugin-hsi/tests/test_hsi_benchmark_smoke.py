"""Smoke test of ``allspark benchmark hsi``: a Salinas-A-like .mat scene at two training
fractions, two seeds, one epoch with a tiny language model; a scene folder without a config is
reported as skipped, and every output is labelled with the scene and fraction it ran on."""
import json
import os

import numpy as np
import scipy.io

from allspark_plugin_hsi.benchmarks import hsi

BANDS = 204
LABELS = (1, 10, 11, 12, 13, 14)  # Salinas-A's six class ids


def write_salinas_like(folder: str, rows: int = 12, cols: int = 12, seed: int = 0) -> str:
    """``SalinasA_corrected.mat`` (rows x cols x bands int16) and ``SalinasA_gt.mat``, in the
    original layout and variable names; each class a column stripe with its own spectrum."""
    rng = np.random.default_rng(seed)
    gt = np.zeros((rows, cols), dtype=np.uint8)
    for i, label in enumerate(LABELS):
        gt[:, 2 * i:2 * i + 2] = label
    gt[0, 0] = 0  # one unlabelled pixel
    cube = np.zeros((rows, cols, BANDS), dtype=np.int16)
    for label in (0,) + LABELS:
        m = gt == label
        shape = 1000 + 300 * label * (1 + np.sin(np.linspace(0, 3, BANDS) * (1 + label % 4)))
        cube[m] = (shape + rng.normal(0, 20, (m.sum(), BANDS))).astype(np.int16)
    os.makedirs(folder, exist_ok=True)
    scipy.io.savemat(os.path.join(folder, 'SalinasA_corrected.mat'), {'salinasA_corrected': cube})
    scipy.io.savemat(os.path.join(folder, 'SalinasA_gt.mat'), {'salinasA_gt': gt})
    return folder


def test_hsi_benchmark_labels_scenes_and_fractions(tmp_path):
    root = tmp_path / 'hsi'
    write_salinas_like(str(root / 'salinas_a'))
    os.makedirs(root / 'unknown_scene')  # no hsi::unknown_scene.py: skipped, and said so
    out = tmp_path / 'out'
    assert hsi.main(['--data-root', str(root), '--train-ratios', '0.5', '0.25', '--seeds', '0',
                     '1', '--smoke', '--svm-c', '1', '100', '--out', str(out)]) == 0
    report = json.loads((out / 'hsi_benchmark.json').read_text())
    assert report['benchmark'] == 'hsi' and report['split_kind'] == 'scene'
    assert 'unknown_scene' in report['skipped_scenes']
    assert set(report['splits']) == {'salinas_a_50pct', 'salinas_a_25pct'}
    assert report['selection']['test_data_used_for_selection'] is False
    for name, ratio in (('salinas_a_50pct', 0.5), ('salinas_a_25pct', 0.25)):
        split = report['splits'][name]
        assert split['label'] == f'HSI salinas_a, {ratio:.0%} training pixels'
        assert split['train_ratio'] == ratio and split['scored_on'] == 'test split'
        assert split['train_pixels'] + split['test_pixels'] == 143
        assert split['svm_selection']['C'] in (1.0, 100.0)
        svm = split['runs']['rbf_svm'][0]
        assert svm['accuracy'] > 90  # separable spectra: the SVM must learn them
        assert [r['seed'] for r in split['runs']['allspark']] == [0, 1]
        assert all(r['total'] == split['test_pixels'] for r in split['runs']['allspark'])
        assert os.path.getsize(split['runs']['allspark'][0]['map_png']) > 1000
        assert name in os.path.basename(svm['map_png'])
        assert split['verdict']['accuracy']['strongest_baseline'] == 'rbf_svm'


def write_samson_scene(folder: str, rows: int = 16, cols: int = 16, seed: int = 0) -> str:
    """Samson's layout and names: ``samson_1.mat`` (``V`` 156 bands x pixels, ``nRow``/``nCol``)
    and ``GroundTruth/end3.mat`` (abundances ``A`` 3 x pixels, names in ``cood``); abundances
    vary smoothly across the scene, so many pixels are mixed."""
    rng = np.random.default_rng(seed)
    bands = 156
    ends = np.stack([np.linspace(0.1, 0.9, bands), np.linspace(0.9, 0.1, bands),
                     0.5 + 0.4 * np.sin(np.linspace(0, 6, bands))])
    u, v = np.meshgrid(np.linspace(0, 1, cols), np.linspace(0, 1, rows))
    ab = np.stack([u, (1 - u) * v, (1 - u) * (1 - v)], -1) + 1e-3
    ab /= ab.sum(-1, keepdims=True)
    cube = ab @ ends + rng.normal(0, 0.005, (rows, cols, bands))
    pix = rows * cols
    os.makedirs(os.path.join(folder, 'GroundTruth'), exist_ok=True)
    scipy.io.savemat(os.path.join(folder, 'samson_1.mat'), {
        'V': cube.reshape(pix, bands, order='F').T, 'nRow': np.uint8(rows),
        'nCol': np.uint8(cols), 'nBand': np.uint8(bands)})
    names = np.array([[np.array([n])] for n in ('1-rock', '2-Tree', '3-water')], dtype=object)
    scipy.io.savemat(os.path.join(folder, 'GroundTruth', 'end3.mat'), {
        'A': ab.reshape(pix, 3, order='F').T, 'M': ends.T, 'cood': names})
    return folder


def test_soft_label_config_gets_the_baseline_with_the_same_fractions(tmp_path):
    root = tmp_path / 'hsi'
    write_samson_scene(str(root / 'samson'))
    out = tmp_path / 'out'
    assert hsi.main(['--data-root', str(root), '--scenes', 'samson', '--config',
                     'samson=hsi::samson_soft.py', '--train-ratios', '0.5', '--seeds', '0',
                     '--smoke', '--svm-c', '1', '100', '--out', str(out)]) == 0
    split = json.loads((out / 'hsi_benchmark.json').read_text())['splits']['samson']
    ridge = split['runs']['rbf_kernel_ridge_fractions'][0]
    assert ridge['total'] == split['test_pixels'] and ridge['accuracy'] > 80
    assert split['kernel_ridge_selection']['alpha'] in (1e-3, 1e-2, 1e-1, 1.0)
    assert split['runs']['allspark'][0]['total'] == split['test_pixels']
    assert split['verdict']['accuracy']['strongest_baseline'] in ('rbf_svm',
                                                                   'rbf_kernel_ridge_fractions')
