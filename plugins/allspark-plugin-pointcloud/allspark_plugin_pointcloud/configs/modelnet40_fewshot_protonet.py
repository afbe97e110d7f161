# Point cloud plugin: ProtoNet on ModelNet40's 30 BASE classes (1,200 training objects), the
# episodically trained baseline of the few-shot comparison: the same encoder, bridge, frozen
# MiniLM, augmentation and optimiser as modelnet40_fewshot_base.py and the same budget of 1,200
# object passes, on 5-way 1-shot episodes with 3 queries per class (20 objects a batch, 60
# episodes) and the prototype loss (PrototypeHead, scaled cosine on standardised features: the
# metric of the base model's TextPrototypeHead, so only the training objective differs).
#   allspark train pointcloud::modelnet40_fewshot_protonet.py
_base_ = ['./modelnet40_fewshot_base.py']

way, shot, query = 5, 1, 3
model = dict(head=dict(_delete_=True, type='PrototypeHead', shot=shot, metric='cosine',
                       scale=10.0, norm='batch'))
train_dataloader = dict(
    batch_size=way * (shot + query),
    sampler=dict(_delete_=True, type='EpisodicSampler', way=way, shot=shot, query=query,
                 episodes_per_epoch=60))
# 1 epoch x 60 episodes x 20 objects = 1,200 object passes
