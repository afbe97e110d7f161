# bfloat16 where it pays, float32 elsewhere: autocast training (master weights and optimizer state
# stay float32) and bfloat16 evaluation on devices with bfloat16 matrix units (CPUs with
# AVX512-BF16 or AMX, GPUs with bf16), plain float32 where bfloat16 would be emulated (an
# AVX2-only CPU, where it runs 18-38x slower). Resolved per device by prepare_config
# (allspark/engine/precision.py); ALLSPARK_BF16=1/0 overrides. A config lists it in _base_ only
# where a same-run comparison showed its metric holds in bfloat16 (docs/benchmarks.md).
optim_wrapper = dict(type='AutocastOptimWrapper', enabled='auto')
val_cfg = dict(fp16='auto')
test_cfg = dict(fp16='auto')
