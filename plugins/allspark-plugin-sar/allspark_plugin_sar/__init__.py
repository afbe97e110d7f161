"""AllSpark SAR plugin: SAR chips (1 or 2 polarisation channels) -> tokens.

Importing it is cheap: it only declares the spec; the core imports ``modules`` when it loads the
plugin.
"""
from allspark.plugins import PluginSpec

plugin = PluginSpec(
    name='sar',
    api_version='1.0',
    modalities=['sar'],
    modules=['allspark_plugin_sar.encoder', 'allspark_plugin_sar.dataset',
             'allspark_plugin_sar.transforms', 'allspark_plugin_sar.prompts',
             'allspark_plugin_sar.baselines'],
    description='SAR target chips (MSTAR JPEG/PNG/TIFF, GeoTIFF via rasterio): '
                'three-layer conv encoder, AConvNets baseline',
    benchmarks={'mstar': 'allspark_plugin_sar.benchmarks.mstar'},
    # what `modules` register: the plugin is imported on the first lookup of one of these
    provides={
        'dataset': ['MSTARDataset'],
        'encoder': ['SARConvEncoder'],
        'prompt_set': ['sar'],
        'transform': ['RandomSpeckle', 'SARToDecibel']},
)
