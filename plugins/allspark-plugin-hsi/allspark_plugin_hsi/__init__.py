"""AllSpark hyperspectral plugin: per-pixel spectra classified as samples.

Importing it is cheap: it only declares the spec; the core imports ``modules`` when it loads the
plugin.
"""
from allspark.plugins import PluginSpec

plugin = PluginSpec(
    name='hsi',
    api_version='1.0',
    modalities=['hsi'],
    modules=['allspark_plugin_hsi.encoder', 'allspark_plugin_hsi.dataset',
             'allspark_plugin_hsi.transforms', 'allspark_plugin_hsi.prompts',
             'allspark_plugin_hsi.metrics'],
    description='hyperspectral pixel classification (.mat / ENVI / GeoTIFF cubes; Salinas-A)',
    benchmarks={'hsi': 'allspark_plugin_hsi.benchmarks.hsi'},
    # what `modules` register: the plugin is imported on the first lookup of one of these
    provides={
        'dataset': ['HSIPixelDataset'],
        'encoder': ['SpectralTransformerEncoder'],
        'metric': ['HSIMapMetric'],
        'prompt_set': ['hsi'],
        'transform': ['SpectralJitter']},
)
