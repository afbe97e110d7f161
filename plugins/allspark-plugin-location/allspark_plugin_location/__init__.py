"""AllSpark location plugin: ``(lat, lon)`` coordinates -> multi-scale tokens.

Importing it is cheap: it only declares the spec; the core imports ``modules`` when it loads the
plugin.  Coordinates are always ``(lat, lon)`` in degrees, latitude first.
"""
from allspark.plugins import PluginSpec

plugin = PluginSpec(
    name='location',
    api_version='1.0',
    modalities=['location'],
    modules=['allspark_plugin_location.encoder', 'allspark_plugin_location.dataset',
             'allspark_plugin_location.transforms', 'allspark_plugin_location.prompts'],
    description='(lat, lon) coordinates: multi-scale random-Fourier-feature location encoder '
                '(Equal Earth, one token per scale), coordinate CSV dataset',
    benchmarks={'geo_regression': 'allspark_plugin_location.benchmarks.geo_regression'},
    # what `modules` register: the plugin is imported on the first lookup of one of these
    provides={
        'dataset': ['CoordinateTableDataset'],
        'encoder': ['MultiScaleLocationEncoder'],
        'prompt_set': ['location'],
        'transform': ['CoordinateJitter']},
)
