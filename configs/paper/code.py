# The AllSpark paper's code setup (Table XV: 6876.02M total, 268.66M trainable): code read by the
# frozen Vicuna-7B's own embeddings (TextEncoder) through one modal bridge at width 4096; the
# documentation side of the retrieval task is language already and enters through an identity
# LinearBridge (no parameters), so the model has one trainable bridge, as in the table.
# CodeSearchNet Ruby data from the code plugin. Not for this CPU (see configs/paper/language.py).
_base_ = ['code::ruby.py', './_base_/vicuna_7b.py']
model = dict(
    _delete_=True, type='AllSpark', fusion='separate',
    modalities=dict(
        code=dict(encoder=dict(type='TextEncoder', max_length=128, truncation='head'),
                  bridge={{_base_.paper_bridge}}),
        doc=dict(encoder=dict(type='TextEncoder', max_length=64, truncation='head'),
                 bridge=dict(type='LinearBridge'))),
    language_model={{_base_.paper_language_model}},
    prompts=dict(code=[], doc=[]),
    head=dict(type='RetrievalHead', modalities=['code', 'doc'], embed_dim=None))
