"""HSIPixelDataset on the layouts public hyperspectral copies use: bands x pixels / pixels x bands
matrices (F. Zhu's unmixing scenes: Samson, Jasper Ridge, Urban), bands-first cubes, abundance
ground truth, class names from the file, ENVI classification headers, GeoTIFF label rasters; and
the errors for wrong keys / shapes, which list every variable of the file with its shape."""
import os

import numpy as np
import pytest
import scipy.io

from allspark.datasets import DataError
from allspark.engine.runner import setup

setup()

from allspark_plugin_hsi.dataset import HSIPixelDataset  # noqa: E402

ROWS, COLS, BANDS, K = 6, 7, 12, 3


def scene(seed=0):
    """A cube ``(rows, cols, bands)`` mixing K endmembers with known abundances ``(rows, cols, K)``;
    column blocks are pure, one column in between is mixed."""
    rng = np.random.default_rng(seed)
    ends = np.stack([np.linspace(0.1, 0.9, BANDS), np.linspace(0.9, 0.1, BANDS),
                     0.5 + 0.4 * np.sin(np.linspace(0, 6, BANDS))])
    ab = np.zeros((ROWS, COLS, K))
    ab[:, :2, 0] = 1
    ab[:, 2, :2] = (0.55, 0.45)  # mixed: argmax rock, purity 0.55
    ab[:, 3:5, 1] = 1
    ab[:, 5:, 2] = 1
    cube = ab @ ends + rng.normal(0, 0.005, (ROWS, COLS, BANDS))
    return cube, ab


def flat(a):  # MATLAB column-major pixel order: pixel p at row p % rows, column p // rows
    return a.reshape(ROWS * COLS, -1, order='F')


def write_samson_like(root, names=('1-rock', '2-Tree', '3-water')):
    cube, ab = scene()
    os.makedirs(os.path.join(root, 'GroundTruth'), exist_ok=True)
    scipy.io.savemat(os.path.join(root, 'samson.mat'), {
        'V': flat(cube).T, 'nRow': np.uint8(ROWS), 'nCol': np.uint8(COLS),
        'nBand': np.uint8(BANDS)})
    gt = {'A': flat(ab).T, 'M': np.zeros((BANDS, K))}
    if names:
        gt['cood'] = np.array([[np.array([n])] for n in names], dtype=object)
    scipy.io.savemat(os.path.join(root, 'GroundTruth', 'end3.mat'), gt)
    return cube, ab


def ds(root, split='train', **kw):
    kw.setdefault('image_file', 'samson.mat')
    kw.setdefault('gt_file', 'GroundTruth/end3.mat')
    kw.setdefault('train_ratio', 0.5)
    return HSIPixelDataset(data_root=root, split=split, num_bands=BANDS, **kw)


def test_bands_by_pixels_matrix_and_abundances(tmp_path):
    root = str(tmp_path)
    cube, ab = write_samson_like(root)
    train, test = ds(root), ds(root, 'test')
    assert train.classes == ['1-rock', '2-Tree', '3-water']  # the file's names, not Salinas'
    assert train.label_values == [0, 1, 2]  # index 0 is a class, not "unlabelled"
    assert len(train) + len(test) == ROWS * COLS
    gt_map = train.metainfo['gt_map']
    assert (gt_map == ab.argmax(-1)).all()  # pixel order: MATLAB column-major
    r, c = train.samples[0]
    np.testing.assert_allclose(train[0]['inputs']['hsi'], cube[r, c], rtol=1e-5)
    # min_purity leaves the mixed column out
    pure = ds(root, min_purity=0.6)
    assert (pure.metainfo['gt_map'][:, 2] == -1).all()
    assert (pure.metainfo['gt_map'][:, [0, 1, 3, 4, 5, 6]] >= 0).all()


def test_pixels_by_bands_with_rows_cols_from_config_and_names(tmp_path):
    cube, ab = scene()
    scipy.io.savemat(tmp_path / 'x.mat', {'data': flat(cube)})
    scipy.io.savemat(tmp_path / 'y.mat', {'abund': flat(ab)})  # pixels x K, no names
    with pytest.raises(DataError, match=r"give rows and cols.*the file has: data \(42, 12\)"):
        ds(str(tmp_path), image_file='x.mat', gt_file='y.mat')
    d = ds(str(tmp_path), image_file='x.mat', gt_file='y.mat', rows=ROWS, cols=COLS,
           class_names=['soil', 'tree', 'water'])
    assert d.classes == ['soil', 'tree', 'water']
    assert (d.metainfo['gt_map'] == ab.argmax(-1)).all()
    d = ds(str(tmp_path), image_file='x.mat', gt_file='y.mat', rows=ROWS)  # cols follows
    assert d.classes == ['class_0', 'class_1', 'class_2']  # never Salinas-A's names


def test_row_major_pixel_order_and_bands_first_cube(tmp_path):
    cube, ab = scene()
    scipy.io.savemat(tmp_path / 'c.mat', {'V': cube.reshape(-1, BANDS).T, 'rows': ROWS,
                                          'cols': COLS})
    scipy.io.savemat(tmp_path / 'g.mat', {'A': ab.reshape(-1, K).T})
    d = ds(str(tmp_path), image_file='c.mat', gt_file='g.mat', pixel_order='C')
    assert (d.metainfo['gt_map'] == ab.argmax(-1)).all()
    # a bands x rows x cols cube with a label map whose 0 is a class (ignore_index=None)
    scipy.io.savemat(tmp_path / 'b.mat', {'img': cube.transpose(2, 0, 1)})
    scipy.io.savemat(tmp_path / 'm.mat', {'labels': ab.argmax(-1).astype(np.uint8)})
    d = ds(str(tmp_path), image_file='b.mat', gt_file='m.mat', ignore_index=None)
    assert d.label_values == [0, 1, 2] and len(d) + len(ds(
        str(tmp_path), 'test', image_file='b.mat', gt_file='m.mat', ignore_index=None)) == 42
    r, c = d.samples[0]
    np.testing.assert_allclose(d[0]['inputs']['hsi'], cube[r, c], rtol=1e-5)
    d = ds(str(tmp_path), image_file='b.mat', gt_file='m.mat')  # default: 0 = unlabelled
    assert d.label_values == [1, 2]


def test_wrong_key_or_shape_lists_the_variables(tmp_path):
    root = str(tmp_path)
    write_samson_like(root)
    listing = r"V \(12, 42\) float64, nBand \(1, 1\) uint8, nCol \(1, 1\) uint8, nRow \(1, 1\)"
    with pytest.raises(DataError, match=rf"samson.mat: no variable 'Y' \(cube_key\); the file "
                                        rf"has: {listing}"):
        ds(root, cube_key='Y')
    with pytest.raises(DataError, match=r"end3.mat: no variable 'gt'.*A \(3, 42\) float64, "
                                        r"M \(12, 3\) float64, cood \(3, 1(, 1)?\) object"):
        ds(root, gt_key='gt')
    with pytest.raises(DataError,
                       match=r"the cube \(20 bands.*found 0.*the file has: V \(12, 42\)"):
        HSIPixelDataset(data_root=root, image_file='samson.mat', gt_file='GroundTruth/end3.mat',
                        num_bands=20)
    scipy.io.savemat(tmp_path / 'bad_gt.mat', {'A': np.ones((3, 40)), 'B': np.ones((5, 5))})
    with pytest.raises(DataError, match=r"found 0 \(\[\]\); the file has: A \(3, 40\) float64, "
                                        r"B \(5, 5\) float64; name it with gt_key"):
        ds(root, gt_file='bad_gt.mat')
    with pytest.raises(DataError, match=r"'B' has shape \(5, 5\), expected the label map"):
        ds(root, gt_file='bad_gt.mat', gt_key='B', gt_type='map')
    scipy.io.savemat(tmp_path / 'two.mat', {'a': np.ones((6, 7, 12)), 'b': np.ones((6, 7, 12))})
    with pytest.raises(DataError, match=r"found 2 \(\['a', 'b'\]\); the file has: a \(6, 7, 12\)"):
        ds(root, image_file='two.mat')


def test_envi_classification_header_and_geotiff_labels(tmp_path):
    import rasterio
    cube, ab = scene()
    labels = ab.argmax(-1).astype(np.uint8) + 1
    labels[0, 0] = 0
    profile = dict(width=COLS, height=ROWS, transform=rasterio.transform.from_origin(0, 0, 1, 1),
                   crs='EPSG:32610')
    with rasterio.open(tmp_path / 'cube.img', 'w', driver='ENVI', count=BANDS,
                       dtype='float32', **profile) as dst:
        dst.write(cube.transpose(2, 0, 1).astype(np.float32))
    with rasterio.open(tmp_path / 'gt.img', 'w', driver='ENVI', count=1, dtype='uint8',
                       **profile) as dst:
        dst.write(labels[None])
    with open(tmp_path / 'gt.hdr', 'a') as f:  # what ENVI writes for a classification image
        f.write('file type = ENVI Classification\nclasses = 4\n'
                'class names = {Unclassified, rock, tree, water}\n')
    d = ds(str(tmp_path), image_file='cube.hdr', gt_file='gt.img')
    assert d.classes == ['rock', 'tree', 'water'] and d.label_values == [1, 2, 3]
    assert d.metainfo['gt_map'][0, 0] == -1
    with rasterio.open(tmp_path / 'gt.tif', 'w', driver='GTiff', count=1, dtype='uint8',
                       **profile) as dst:
        dst.write(labels[None])
    d = ds(str(tmp_path), image_file='cube.img', gt_file='gt.tif')
    assert d.classes == ['class_1', 'class_2', 'class_3']
