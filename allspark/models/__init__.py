"""Model components: ``AllSpark``, bridges, the language model, prompts, heads, encoders."""
