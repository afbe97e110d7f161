"""One transform base class (``allspark.datasets.transforms.BaseTransform``) and one ``keys=``
spelling, in the core and in every shipped plugin."""
import importlib

import numpy as np
import pytest

from allspark.datasets.transforms import BaseTransform, RandomFlip
from allspark.registry import TRANSFORMS

# every plugin transform that takes the field it works on
SINGLE_FIELD = {
    'allspark_plugin_code.transforms': ['CodeTruncateChars', 'DocFirstSentence'],
    'allspark_plugin_elevation.transforms': ['ElevationRelative'],
    'allspark_plugin_hsi.transforms': ['SpectralJitter'],
    'allspark_plugin_language.transforms': ['TextStripHTML'],
    'allspark_plugin_location.transforms': ['CoordinateJitter'],
    'allspark_plugin_msi.transforms': ['MSIRandomBrightness'],
    'allspark_plugin_pointcloud.transforms': ['PointCloudScaleTranslate',
                                              'PointCloudRandomDropout'],
    'allspark_plugin_rgb.transforms': ['RGBColorJitter'],
    'allspark_plugin_sar.transforms': ['SARToDecibel', 'RandomSpeckle'],
    'allspark_plugin_table.transforms': ['TableColumnDropout'],
}


def _plugin_classes():
    for module, names in SINGLE_FIELD.items():
        mod = pytest.importorskip(module)
        yield from (getattr(mod, n) for n in names)


def test_core_transforms_share_the_base_and_check_keys():
    flip = TRANSFORMS.build(dict(type='RandomFlip', prob=1.0, keys=['a', 'b']))
    assert isinstance(flip, BaseTransform) and flip.keys == ['a', 'b']
    x = np.arange(6.0).reshape(1, 2, 3)
    out = flip(dict(a=x.copy(), b=x.copy()))
    np.testing.assert_array_equal(out['a'], x[..., ::-1])
    np.testing.assert_array_equal(out['b'], x[..., ::-1])  # both keys flipped together
    with pytest.raises(KeyError, match=r"RandomFlip: sample has no 'b' \(keys: \['a'\]\)"):
        flip(dict(a=x))
    with pytest.raises(TypeError, match=r'RandomFlip: the argument is spelt keys=.*not key='):
        RandomFlip(key='a')


def test_plugin_transforms_use_the_base_and_keys():
    classes = list(_plugin_classes())
    assert len(classes) == 13
    for cls in classes:
        assert issubclass(cls, BaseTransform), cls
        with pytest.raises(TypeError, match=rf'{cls.__name__}: the argument is spelt keys='):
            cls(key='x')
        with pytest.raises(ValueError, match=rf'{cls.__name__}: works on one field'):
            cls(keys=['x', 'y'])
    graph = pytest.importorskip('allspark_plugin_graph.transforms').GraphInputDropout
    assert issubclass(graph, BaseTransform) and graph().keys == ['graph']


def test_plugin_transform_reads_the_field_named_by_keys():
    sar = importlib.import_module('allspark_plugin_sar.transforms').SARToDecibel
    out = sar(keys='hh')(dict(hh=np.full((1, 2, 2), 100.0, np.float32)))
    np.testing.assert_allclose(out['hh'], 20.0)  # 10 log10(100)
    with pytest.raises(KeyError, match=r"SARToDecibel: sample has no 'sar' \(keys: \['hh'\]\)"):
        sar()(dict(hh=np.ones((1, 2, 2))))
