# LoRA adapters (peft) for a LLaMA-architecture language model, e.g. the paper's Vicuna-7B
# (configs/paper/_base_/vicuna_7b.py): rank-8 updates of the attention's q_proj and v_proj (the
# usual LLaMA / Vicuna LoRA targets); everything else stays frozen. Use it next to the config's
# own bases (mmengine refuses two bases that both set `model`, so this one only defines
# `lora_llama`), e.g. a config beside configs/paper/rgb.py:
#   _base_ = ['./rgb.py', 'allspark::_base_/lora/llama.py']
#   model = dict(language_model=dict(lora={{_base_.lora_llama}}))
# The same from the command line:
#   --cfg-options model.language_model.lora.r=8 model.language_model.lora.lora_alpha=16
#   model.language_model.lora.lora_dropout=0.05
#   model.language_model.lora.target_modules=[q_proj,v_proj]
# Vicuna-7B (32 layers, width 4096): 32 x 2 x (4096 x 8 + 8 x 4096) = 4,194,304 trainable LM
# parameters (0.06 % of its 6,607 M).
lora_llama = dict(r=8, lora_alpha=16, lora_dropout=0.05, target_modules=['q_proj', 'v_proj'])
