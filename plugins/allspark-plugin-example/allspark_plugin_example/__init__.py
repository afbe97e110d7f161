"""AllSpark example plugin: 1-D waveforms (sine, square, sawtooth, triangle) in CSV files.

This package is the plugin guide's walk-through (docs/plugin_guide.md).  Importing it is cheap:
it only declares the spec; the core imports ``modules`` when it loads the plugin.
"""
from allspark.plugins import PluginSpec

plugin = PluginSpec(
    name='example',
    api_version='1.0',
    modalities=['signal'],
    modules=['allspark_plugin_example.encoder', 'allspark_plugin_example.dataset',
             'allspark_plugin_example.transforms', 'allspark_plugin_example.prompts'],
    description='1-D waveform classification from CSV files (plugin guide example)',
    benchmarks={'waveform': 'allspark_plugin_example.benchmarks.waveform'},
    # what `modules` register: the plugin is imported on the first lookup of one of these
    provides={
        'dataset': ['WaveformCSVDataset'],
        'encoder': ['SignalPatchEncoder'],
        'prompt_set': ['signal'],
        'transform': ['RandomTimeShift']},
)
