"""AllSpark RGB plugin: RGB remote-sensing scenes (UC Merced TIFF, NWPU-RESISC45 JPEG).

Importing it is cheap: it only declares the spec; the core imports ``modules`` when it loads the
plugin.
"""
from allspark.plugins import PluginSpec

plugin = PluginSpec(
    name='rgb',
    api_version='1.0',
    modalities=['rgb'],
    modules=['allspark_plugin_rgb.encoder', 'allspark_plugin_rgb.dataset',
             'allspark_plugin_rgb.transforms', 'allspark_plugin_rgb.prompts'],
    description='RGB scenes: any timm backbone as token encoder (EVA-g in the paper), '
                'UC Merced / NWPU-RESISC45 class folders',
    benchmarks={'ucmerced': 'allspark_plugin_rgb.benchmarks.ucmerced'},
    # what `modules` register: the plugin is imported on the first lookup of one of these
    provides={
        'dataset': ['NWPURESISC45Dataset', 'RGBSceneFolderDataset', 'UCMercedDataset'],
        'encoder': ['TimmTokenEncoder'],
        'prompt_set': ['rgb'],
        'transform': ['RGBColorJitter', 'RGBRandomResizedCrop']},
)
