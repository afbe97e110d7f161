"""CoordinateTableDataset: reading, splits, and a clear error for every bad coordinate."""
import numpy as np
import pytest

from allspark.datasets import DataError, allspark_collate
from allspark_plugin_location.dataset import CoordinateTableDataset
from allspark_plugin_location.transforms import CoordinateJitter, wrap_latlon


def _write(tmp_path, text, name='points.csv'):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


GOOD = 'Lon,Lat,meanT,kind\n' + '\n'.join(
    f'{lon},{lat},{t},{k}' for lon, lat, t, k in [
        (7.82, 36.83, 18.0, 'a'), (3.25, 36.72, 18.1, 'b'), (-122.2, 37.9, 14.0, 'a'),
        (151.2, -33.9, 17.5, 'b'), (139.7, 35.7, 15.4, 'a'), (-0.13, 51.5, 11.0, 'b')]) + '\n'


def test_reads_coordinates_latitude_first_and_targets(tmp_path):
    path = _write(tmp_path, GOOD)
    ds = CoordinateTableDataset(data_root=path, split='all', lat_column='Lat', lon_column='Lon',
                                target_column='meanT')
    assert len(ds) == 6
    item = ds[0]
    assert np.allclose(item['inputs']['location'], [36.83, 7.82])  # (lat, lon)
    assert item['data_samples']['gt_value'] == pytest.approx(18.0)
    assert item['data_samples']['line'] == 2
    batch = allspark_collate([ds[i] for i in range(3)])
    assert tuple(batch['inputs']['location'].shape) == (3, 2)
    stats = ds.stats()['target']
    assert stats['mean'][0] == pytest.approx(np.mean([18.0, 18.1, 14.0, 17.5, 15.4, 11.0]))


def test_seeded_split_is_disjoint_complete_and_repeatable(tmp_path):
    path = _write(tmp_path, GOOD)
    kw = dict(data_root=path, lat_column='Lat', lon_column='Lon', target_column='meanT', seed=3)
    train, test = (CoordinateTableDataset(split=s, **kw) for s in ('train', 'test'))
    lines_train = {s['line'] for s in train.samples}
    lines_test = {s['line'] for s in test.samples}
    assert len(lines_train) == 3 and not lines_train & lines_test
    assert lines_train | lines_test == set(range(2, 8))
    again = CoordinateTableDataset(split='train', **kw)
    assert {s['line'] for s in again.samples} == lines_train
    other = [{s['line'] for s in CoordinateTableDataset(split='train', **{**kw, 'seed': k})
              .samples} for k in range(6)]
    assert len({frozenset(o) for o in other}) > 1


def test_class_column(tmp_path):
    path = _write(tmp_path, GOOD)
    ds = CoordinateTableDataset(data_root=path, split='all', lat_column='Lat', lon_column='Lon',
                                class_column='kind')
    assert ds.classes == ['a', 'b'] and [s['gt_label'] for s in ds.samples] == [0, 1] * 3


@pytest.mark.parametrize('value,line_text', [
    ('nan', "line 3: latitude column 'Lat' holds 'nan'"),
    ('inf', "line 3: latitude column 'Lat' holds 'inf'"),
    ('', "line 3: latitude column 'Lat' holds ''"),
    ('abc', "line 3: latitude column 'Lat' holds 'abc'"),
    ('-91.5', "line 3: latitude column 'Lat' holds '-91.5'"),
])
def test_bad_latitude_names_file_line_and_value(tmp_path, value, line_text):
    lines = GOOD.splitlines()
    lon, lat, t, k = lines[2].split(',')
    lines[2] = ','.join([lon, value, t, k])
    path = _write(tmp_path, '\n'.join(lines) + '\n')
    with pytest.raises(DataError) as info:
        CoordinateTableDataset(data_root=path, split='all', lat_column='Lat', lon_column='Lon',
                               target_column='meanT')
    assert path in str(info.value) and line_text in str(info.value)


def test_bad_longitude_names_file_line_and_value(tmp_path):
    lines = GOOD.splitlines()
    lines[3] = lines[3].replace('-122.2', '-190.0')
    path = _write(tmp_path, '\n'.join(lines) + '\n')
    with pytest.raises(DataError, match=r"line 4: longitude column 'Lon' holds '-190.0'.*"
                                        r"\[-180, 180\]"):
        CoordinateTableDataset(data_root=path, split='all', lat_column='Lat', lon_column='Lon')


def test_swapped_columns_detected(tmp_path):
    path = _write(tmp_path, GOOD)
    with pytest.raises(DataError, match=r"latitude column 'Lon' has values outside.*line 4.*"
                                        r"columns look swapped.*lat_column='Lat', "
                                        r"lon_column='Lon'"):
        CoordinateTableDataset(data_root=path, split='all', lat_column='Lon', lon_column='Lat')


def test_missing_column_lists_the_columns(tmp_path):
    path = _write(tmp_path, GOOD)
    with pytest.raises(DataError, match=r"no column\(s\) \['latitude'\]; its columns are "
                                        r"\['Lon', 'Lat', 'meanT', 'kind'\]"):
        CoordinateTableDataset(data_root=path, split='all', lat_column='latitude',
                               lon_column='Lon')


def test_missing_target_error_or_drop(tmp_path):
    lines = GOOD.splitlines()
    lines[2] = lines[2].replace('18.1', '')
    path = _write(tmp_path, '\n'.join(lines) + '\n')
    kw = dict(data_root=path, split='all', lat_column='Lat', lon_column='Lon',
              target_column='meanT')
    with pytest.raises(DataError, match=r"line 3: target column 'meanT' holds ''"):
        CoordinateTableDataset(**kw)
    ds = CoordinateTableDataset(missing_target='drop', **kw)
    assert len(ds) == 5 and ds.dropped == [3]


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match='CSV file not found'):
        CoordinateTableDataset(data_root=str(tmp_path / 'nope.csv'), split='all')


def test_jitter_moves_by_about_sigma_and_wraps():
    np.random.seed(0)
    jitter = CoordinateJitter(sigma_km=10.0)
    from allspark.geo import haversine_km
    moved = [jitter({'location': np.array([45.0, 5.0], np.float32)})['location']
             for _ in range(200)]
    d = haversine_km(45.0, 5.0, np.array([m[0] for m in moved]), np.array([m[1] for m in moved]))
    assert 8.0 < np.sqrt(np.mean(d ** 2)) / np.sqrt(2) < 12.0
    assert wrap_latlon(91.0, 10.0) == pytest.approx((89.0, -170.0))
    assert wrap_latlon(0.0, 181.0) == pytest.approx((0.0, -179.0))
