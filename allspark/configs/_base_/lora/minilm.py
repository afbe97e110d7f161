# LoRA adapters (peft) for a BERT-style language model such as the default all-MiniLM-L6-v2:
# rank-8 updates of the attention's query and value projections; everything else stays frozen.
# Use it next to the config's own bases (mmengine refuses two bases that both set `model`, so
# this one only defines `lora_minilm`):
#   _base_ = ['rgb::ucmerced.py', 'allspark::_base_/lora/minilm.py']
#   model = dict(language_model=dict(lora={{_base_.lora_minilm}}))
# The same from the command line:
#   --cfg-options model.language_model.lora.r=8 model.language_model.lora.lora_alpha=16
#   model.language_model.lora.lora_dropout=0.05
#   model.language_model.lora.target_modules=[query,value]
# MiniLM (6 layers, width 384): 6 x 2 x (384 x 8 + 8 x 384) = 73,728 trainable LM parameters.
lora_minilm = dict(r=8, lora_alpha=16, lora_dropout=0.05, target_modules=['query', 'value'])
