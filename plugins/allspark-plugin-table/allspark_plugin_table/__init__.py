"""AllSpark table plugin: rows of a table as one token per column (after TabFormer).

Importing it is cheap: it only declares the spec; the core imports ``modules`` when it loads the
plugin.
"""
from allspark.plugins import PluginSpec

plugin = PluginSpec(
    name='table',
    api_version='1.0',
    modalities=['table'],
    modules=['allspark_plugin_table.encoder', 'allspark_plugin_table.dataset',
             'allspark_plugin_table.transforms', 'allspark_plugin_table.prompts'],
    description='tabular rows as column tokens (TabFormer-style); PRSA air-quality regression',
    benchmarks={'prsa': 'allspark_plugin_table.benchmarks.prsa'},
    # what `modules` register: the plugin is imported on the first lookup of one of these
    provides={
        'dataset': ['PRSADataset'],
        'encoder': ['TabularTokenEncoder'],
        'prompt_set': ['table'],
        'transform': ['TableColumnDropout']},
)
