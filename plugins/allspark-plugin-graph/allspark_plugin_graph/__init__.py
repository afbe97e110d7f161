"""AllSpark graph plugin: traffic speed forecasting on road-sensor graphs.

Importing it is cheap: it only declares the spec; the core imports ``modules`` when it loads
the plugin.
"""
from allspark.plugins import PluginSpec

plugin = PluginSpec(
    name='graph',
    api_version='1.0',
    modalities=['graph'],
    modules=['allspark_plugin_graph.encoder', 'allspark_plugin_graph.dataset',
             'allspark_plugin_graph.transforms', 'allspark_plugin_graph.prompts',
             'allspark_plugin_graph.metrics'],
    description='Traffic forecasting on sensor graphs (METR-LA / Los-loop CSV, METR-LA / '
                'PEMS-BAY HDF5), 12 -> 12 steps, masked MAE/RMSE/MAPE per horizon',
    benchmarks={'metr_la': 'allspark_plugin_graph.benchmarks.metr_la'},
    # what `modules` register: the plugin is imported on the first lookup of one of these
    provides={
        'dataset': ['TrafficGraphDataset'],
        'encoder': ['STAEGraphEncoder'],
        'metric': ['TrafficForecastMetric'],
        'prompt_set': ['graph'],
        'transform': ['GraphInputDropout']},
)
