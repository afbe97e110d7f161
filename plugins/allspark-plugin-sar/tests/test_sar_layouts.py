"""MSTARDataset on the other layouts public MSTAR copies use: a class subset on any split, a test
folder with no sibling ``train/``, serial sub-folders inside a class folder (EOC-2's
``test/T72/<serial>/``, where file names repeat across serials) and a CSV file list (EOC-2's
``train_list.csv``, paths relative to a parent folder)."""
import csv
import os

import pytest
from sar_fixtures import write_jpeg_tree

from allspark.datasets import DataError
from allspark_plugin_sar.dataset import MSTARDataset


def test_class_subset_on_every_split(tmp_path):
    root = write_jpeg_tree(str(tmp_path / 'mstar'), classes=('2S1', 'BMP2', 'T72', 'ZSU_23_4'),
                           per_class=3)
    subset = ['ZSU_23_4', 'BMP2']  # the given order is the label order
    for split in ('train', 'test'):
        ds = MSTARDataset(root, split, classes=subset)
        assert ds.classes == subset and len(ds) == 6
        labels = {os.path.basename(os.path.dirname(s['img_path'])): s['gt_label']
                  for s in ds.samples}
        assert labels == {'ZSU_23_4': 0, 'BMP2': 1}
    # a training split must have every listed class; a test split may lack some
    with pytest.raises(DataError, match=r"no folder for class\(es\) \['BTR70'\].*found: "):
        MSTARDataset(root, 'train', classes=['BMP2', 'BTR70'])
    assert len(MSTARDataset(root, 'test', classes=['BMP2', 'BTR70'])) == 3


def test_test_folder_without_train_sibling(tmp_path):
    root = write_jpeg_tree(str(tmp_path / 'depression45'), classes=('BRDM_2', 'T72', 'ZSU_23_4'),
                           per_class=2, splits=('test',))
    ds = MSTARDataset(root, 'test', classes=['BRDM_2', 'T72', 'ZSU_23_4'])
    assert len(ds) == 6 and ds.metainfo['classes'] == ['BRDM_2', 'T72', 'ZSU_23_4']
    # without classes the error says what was found and how to read it
    with pytest.raises(DataError, match=r"train \(the classes.*give classes=.*'BRDM_2', 'T72'"):
        MSTARDataset(root, 'test')


def test_serial_subfolders_are_searched(tmp_path):
    root = str(tmp_path / 'eoc2')
    for serial in ('A32', 'A62', 'SN_S7'):  # the same file names under every serial
        write_jpeg_tree(os.path.join(root, 'test', 'T72_tmp', serial), classes=('x',),
                        per_class=2, splits=('.',))
        os.rename(os.path.join(root, 'test', 'T72_tmp', serial, 'x'),
                  os.path.join(root, 'test', 'T72_tmp', serial + '_chips'))
    os.rename(os.path.join(root, 'test', 'T72_tmp'), os.path.join(root, 'test', 'T72'))
    ds = MSTARDataset(root, 'test', classes=['BMP2', 'T72'])
    paths = [s['img_path'] for s in ds.samples]
    assert len(paths) == 6 and len(set(paths)) == 6
    assert len({os.path.basename(p) for p in paths}) == 2  # names repeat across serials
    assert {s['gt_label'] for s in ds.samples} == {1}
    arr = ds[0]['inputs']['sar']
    assert arr.shape[0] == 1


def test_csv_file_list_relative_to_a_parent(tmp_path):
    shared = tmp_path / 'data'
    write_jpeg_tree(str(shared / 'mstar'), classes=('BMP2', 'T72', '2S1'), per_class=2,
                    splits=('train',))
    extra = write_jpeg_tree(str(shared / 'eoc' / 'cond' / 'train_extra'), classes=('BMP2',),
                            per_class=1, splits=('.',))
    rows = []
    for cls in ('BMP2', 'T72', '2S1'):
        for name in sorted(os.listdir(shared / 'mstar' / 'train' / cls)):
            rows.append((f'mstar/train/{cls}/{name}', cls))
    name = os.listdir(os.path.join(extra, '.', 'BMP2'))[0]
    rows.append((f'eoc/cond/train_extra/BMP2/{name}', 'BMP2'))
    with open(shared / 'eoc' / 'cond' / 'train_list.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['file_relative_to_shared_data', 'class', 'serial'])
        for path, cls in rows:
            w.writerow([path, cls, 'x'])
    ds = MSTARDataset(str(shared / 'eoc' / 'cond'), 'train', file_list='train_list.csv',
                      classes=['BMP2', 'T72'])
    assert len(ds) == 5 and ds.classes == ['BMP2', 'T72']
    assert sum(s['gt_label'] == 0 for s in ds.samples) == 3
    assert ds[4]['inputs']['sar'].ndim == 3
    # a list whose files are nowhere: the error names the list, the column and where it looked
    with open(shared / 'bad.csv', 'w') as f:
        f.write('path,class\nnowhere/x.jpeg,BMP2\n')
    with pytest.raises(DataError, match=r"bad.csv: its first file 'nowhere/x.jpeg' \(column "
                                        r"'path'\) is not found"):
        MSTARDataset(str(shared), 'train', file_list='bad.csv')
    with open(shared / 'nocls.csv', 'w') as f:
        f.write('path,label\nmstar/train/BMP2/x.jpeg,BMP2\n')
    with pytest.raises(DataError, match=r"no \"class\" column \(columns: \['path', 'label'\]\)"):
        MSTARDataset(str(shared), 'train', file_list='nocls.csv')
