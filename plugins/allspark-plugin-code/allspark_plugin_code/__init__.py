"""AllSpark code plugin: source code and its documentation as two text modalities.

Importing it is cheap: it only declares the spec; the core imports ``modules`` when it loads the
plugin.
"""
from allspark.plugins import PluginSpec

plugin = PluginSpec(
    name='code',
    api_version='1.0',
    modalities=['code', 'doc'],
    modules=['allspark_plugin_code.encoder', 'allspark_plugin_code.dataset',
             'allspark_plugin_code.transforms', 'allspark_plugin_code.prompts',
             'allspark_plugin_code.heads', 'allspark_plugin_code.metrics'],
    description='CodeSearchNet/CodeXGLUE jsonl(.gz): code <-> documentation retrieval (MRR), '
                'documentation generation with a causal language model',
    benchmarks={'codesearchnet_ruby': 'allspark_plugin_code.benchmarks.codesearchnet_ruby'},
    # what `modules` register: the plugin is imported on the first lookup of one of these
    provides={
        'dataset': ['CodeSearchNetDataset'],
        'head': ['CodeCaptionHead'],
        'metric': ['CaptionBLEUMetric'],
        'prompt_set': ['code', 'doc'],
        'transform': ['CodeTruncateChars', 'DocFirstSentence']},
)
