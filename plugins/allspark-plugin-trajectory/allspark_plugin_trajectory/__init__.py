"""AllSpark trajectory plugin: pedestrian trajectory forecasting on ETH-UCY text files.

Importing it is cheap: it only declares the spec; the core imports ``modules`` when it loads
the plugin.
"""
from allspark.plugins import PluginSpec

plugin = PluginSpec(
    name='trajectory',
    api_version='1.0',
    modalities=['trajectory'],
    modules=['allspark_plugin_trajectory.encoder', 'allspark_plugin_trajectory.dataset',
             'allspark_plugin_trajectory.transforms', 'allspark_plugin_trajectory.prompts',
             'allspark_plugin_trajectory.metrics'],
    description='Pedestrian trajectory forecasting (ETH-UCY, observe 8 / predict 12, ADE/FDE)',
    benchmarks={'eth': 'allspark_plugin_trajectory.benchmarks.eth'},
    # what `modules` register: the plugin is imported on the first lookup of one of these
    provides={
        'dataset': ['ETHUCYDataset'],
        'encoder': ['TrajTransformerEncoder'],
        'metric': ['TrajectoryMetric'],
        'prompt_set': ['trajectory'],
        'transform': ['TrajCanonicalRotate', 'TrajConstantVelocityPrior', 'TrajRandomFlip',
                      'TrajRandomRotate', 'TrajRandomScale']},
)
