"""AllSpark elevation plugin: DEM/DSM chips (heights in metres, nodata mask, terrain channels).

Importing it is cheap: it only declares the spec; the core imports ``modules`` when it loads the
plugin.  Each chip also carries its centre ``(lat, lon)``: the ``location`` modality of the
location plugin, co-located.
"""
from allspark.plugins import PluginSpec

plugin = PluginSpec(
    name='elevation',
    api_version='1.0',
    modalities=['elevation'],
    modules=['allspark_plugin_elevation.encoder', 'allspark_plugin_elevation.dataset',
             'allspark_plugin_elevation.transforms', 'allspark_plugin_elevation.prompts'],
    description='DEM/DSM GeoTIFF chips (rasterio windows, nodata mask, slope/aspect/hillshade '
                'in metres), timm ViT encoder; chips carry their centre (lat, lon)',
    benchmarks={'dem_reader': 'allspark_plugin_elevation.benchmarks.dem_reader'},
    # what `modules` register: the plugin is imported on the first lookup of one of these
    provides={
        'dataset': ['DEMChipDataset'],
        'encoder': ['ElevationViTEncoder'],
        'prompt_set': ['elevation'],
        'transform': ['ElevationRelative']},
)
