# The AllSpark paper's language setup (Table XV: 6876.02M total, 268.66M trainable): the frozen
# Vicuna-7B reads the text through its own token embeddings (TextEncoder, no parameters of its
# own), one modal bridge at width 4096, a linear head; IMDB data from the language plugin.
# Not for this CPU: a config to check sizes (tests/test_paper_configs.py) and to run on a GPU with
# real Vicuna weights (see configs/paper/_base_/vicuna_7b.py).
_base_ = ['language::imdb.py', './_base_/vicuna_7b.py']
model = dict(
    _delete_=True, type='AllSpark',
    modalities=dict(text=dict(encoder=dict(type='TextEncoder', max_length=496,
                                           truncation='head_tail', head_ratio=0.25),
                              bridge={{_base_.paper_bridge}})),
    language_model={{_base_.paper_language_model}},
    head=dict(type='LinearClsHead', num_classes=2))
