"""AllSpark language plugin: text classification, the text read by the language model itself.

Importing it is cheap: it only declares the spec; the core imports ``modules`` when it loads the
plugin.
"""
from allspark.plugins import PluginSpec

plugin = PluginSpec(
    name='language',
    api_version='1.0',
    modalities=['text'],
    modules=['allspark_plugin_language.encoder', 'allspark_plugin_language.dataset',
             'allspark_plugin_language.transforms', 'allspark_plugin_language.prompts'],
    description='text classification (IMDB aclImdb layout, CSV text/label), '
                'text fed to the language model through its own tokenizer',
    benchmarks={'imdb': 'allspark_plugin_language.benchmarks.imdb'},
    # what `modules` register: the plugin is imported on the first lookup of one of these
    provides={
        'dataset': ['IMDBDataset', 'TextCSVDataset'],
        'prompt_set': ['text'],
        'transform': ['TextStripHTML']},
)
