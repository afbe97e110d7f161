"""AllSpark MSI plugin: multispectral imagery (Sentinel-2 EuroSAT-MS GeoTIFFs, 13 bands).

Importing it is cheap: it only declares the spec; the core imports ``modules`` when it loads the
plugin.
"""
from allspark.plugins import PluginSpec

plugin = PluginSpec(
    name='msi',
    api_version='1.0',
    modalities=['msi'],
    modules=['allspark_plugin_msi.encoder', 'allspark_plugin_msi.dataset',
             'allspark_plugin_msi.transforms', 'allspark_plugin_msi.prompts',
             'allspark_plugin_msi.colocated', 'allspark_plugin_msi.s2_100k'],
    description='multispectral (Sentinel-2) scenes: band-count-aware timm ViT, EuroSAT-MS',
    benchmarks={'eurosat': 'allspark_plugin_msi.benchmarks.eurosat',
                'eurosat_geo': 'allspark_plugin_msi.benchmarks.eurosat_geo'},
    # what `modules` register: the plugin is imported on the first lookup of one of these
    provides={
        'dataset': ['EuroSATCoLocatedDataset', 'EuroSATDataset', 'SatCLIPS2Dataset'],
        'encoder': ['MSIViTEncoder'],
        'prompt_set': ['msi'],
        'transform': ['CoLocatedFlipRotate', 'MSIRandomBrightness', 'MSISelectBands']},
)
