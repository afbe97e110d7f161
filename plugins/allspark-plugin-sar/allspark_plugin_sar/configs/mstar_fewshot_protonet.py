# SAR plugin: ProtoNet on MSTAR's 7 BASE classes (1,850 17-degree chips), the episodically trained
# baseline for mstar_fewshot_base.py: same encoder, bridge, frozen MiniLM, augmentation,
# optimiser and budget (1,840 chip passes: 1 epoch x 92 episodes x 20 chips), on 5-way 1-shot
# episodes with 3 queries per class and the prototype loss (PrototypeHead, scaled cosine on
# standardised features, the base model's metric).
#   allspark train sar::mstar_fewshot_protonet.py
_base_ = ['./mstar_fewshot_base.py']

way, shot, query = 5, 1, 3
model = dict(head=dict(_delete_=True, type='PrototypeHead', shot=shot, metric='cosine',
                       scale=10.0, norm='batch'))
train_dataloader = dict(
    batch_size=way * (shot + query),
    sampler=dict(_delete_=True, type='EpisodicSampler', way=way, shot=shot, query=query,
                 episodes_per_epoch=92))
