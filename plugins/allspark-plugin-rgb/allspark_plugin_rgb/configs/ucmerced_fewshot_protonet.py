# RGB plugin: ProtoNet (Snell et al. 2017) on UC Merced's 15 BASE classes (60 images), the
# episodically trained baseline of the few-shot comparison: the same encoder, bridge and frozen
# MiniLM as ucmerced_fewshot_base.py, the same augmentation and optimiser, the same budget of
# 2,400 image passes, but trained on 5-way 1-shot episodes (3 queries per class, 20 images per
# batch, 120 episodes) with the prototype loss (PrototypeHead, scaled cosine).
#   allspark train rgb::ucmerced_fewshot_protonet.py
#   allspark fewshot rgb::ucmerced_fewshot_base.py work_dirs/ucmerced_fewshot_base/epoch_40.pth \
#       --protonet rgb::ucmerced_fewshot_protonet.py \
#       work_dirs/ucmerced_fewshot_protonet/epoch_12.pth ...
_base_ = ['./ucmerced_fewshot_base.py']

way, shot, query = 5, 1, 3
# cosine (scale 10) on the standardised features: the metric and features of the base model's
# TextPrototypeHead, so only the training objective differs (squared Euclidean on these 384-d
# standardised features starts with logits in the hundreds: loss ~400, gradient norm ~1e4)
model = dict(head=dict(_delete_=True, type='PrototypeHead', shot=shot, metric='cosine',
                       scale=10.0, norm='batch'))
train_dataloader = dict(
    batch_size=way * (shot + query),
    sampler=dict(_delete_=True, type='EpisodicSampler', way=way, shot=shot, query=query,
                 episodes_per_epoch=10))
max_epochs = 12  # 12 x 10 episodes x 20 images = 2,400 image passes
train_cfg = dict(by_epoch=True, max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs, T_max=max_epochs - 1,
         eta_min=1e-5, convert_to_iter_based=True),
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=max_epochs,
                                     max_keep_ckpts=1),
                     logger=dict(type='LoggerHook', interval=5))
