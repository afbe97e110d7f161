"""AllSpark point cloud plugin: readers (.npy, ModelNet40 HDF5, Open3D point/mesh files,
LAS/LAZ), exact farthest point sampling, a Point-BERT-style encoder, augmentations, prompts and
a PointNet baseline.

Importing the package is cheap: it only declares the spec; the core imports ``modules`` when it
loads the plugin.
"""
from allspark.plugins import PluginSpec

plugin = PluginSpec(
    name='pointcloud',
    api_version='1.0',
    modalities=['pointcloud'],
    modules=['allspark_plugin_pointcloud.encoder', 'allspark_plugin_pointcloud.dataset',
             'allspark_plugin_pointcloud.dataset_h5', 'allspark_plugin_pointcloud.transforms',
             'allspark_plugin_pointcloud.prompts'],
    description='3-D point clouds (ModelNet40 .npy/.h5, .ply/.pcd/.xyz/.pts, meshes, LAS/LAZ): '
                'Point-BERT-style encoder with exact FPS',
    benchmarks={'modelnet40': 'allspark_plugin_pointcloud.benchmarks.modelnet40',
                'fps_timing': 'allspark_plugin_pointcloud.benchmarks.fps_timing'},
    # what `modules` register: the plugin is imported on the first lookup of one of these
    provides={
        'dataset': ['ModelNet40Dataset', 'ModelNet40H5Dataset'],
        'encoder': ['PointTransformerEncoder'],
        'prompt_set': ['pointcloud'],
        'transform': ['PointCloudRandomDropout', 'PointCloudScaleTranslate']},
)
