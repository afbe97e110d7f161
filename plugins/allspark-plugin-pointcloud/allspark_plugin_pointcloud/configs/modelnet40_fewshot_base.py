# Point cloud plugin: the feature model for ModelNet40 few-shot evaluation (`allspark fewshot`),
# trained on the 30 BASE classes only (ModelNet40Dataset's fixed split: the 10 novel classes
# bench, car, curtain, flower_pot, lamp, night_stand, radio, stairs, toilet, xbox are never
# seen): their 40 training objects each in ../shared/data/modelnet40 = 1,200 objects.  No
# pretrained weights.  Encoder and bridge of modelnet40_cpu.py (FPS 32 x 32, 4-layer transformer
# of width 128, Perceiver with 16 queries) -> frozen MiniLM -> TextPrototypeHead (each class is
# its name through the language model after the point-cloud prompt).  Short budget for the
# shared 2-core CPU (about 12 jobs on its 2 cores when measured): 1 epoch = 1,200 object
# passes, float32 (bfloat16 matmuls measured 40x slower than float32 on this CPU: no AVX512-BF16)
# (the ProtoNet config gets the same).
#   allspark train pointcloud::modelnet40_fewshot_base.py
#   allspark fewshot pointcloud::modelnet40_fewshot_base.py \
#       work_dirs/modelnet40_fewshot_base/epoch_1.pth --way 5 --shot 1 5 --query 15 \
#       --episodes 700 --seed 0
_base_ = ['./modelnet40_cpu.py']

base_classes = ['airplane', 'bathtub', 'bed', 'bookshelf', 'bottle', 'bowl', 'chair', 'cone',
                'cup', 'desk', 'door', 'dresser', 'glass_box', 'guitar', 'keyboard', 'laptop',
                'mantel', 'monitor', 'person', 'piano', 'plant', 'range_hood', 'sink', 'sofa',
                'stool', 'table', 'tent', 'tv_stand', 'vase', 'wardrobe']
model = dict(head=dict(_delete_=True, type='TextPrototypeHead',
                       class_texts=[c.replace('_', ' ') for c in base_classes],
                       modality='pointcloud', norm='batch'))
train_dataloader = dict(dataset=dict(classes=base_classes))
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None

fewshot = dict(
    modality='pointcloud',
    dataset=dict(type='ModelNet40Dataset', data_root={{_base_.data_root}}, split='all',
                 num_points=1024),
    batch_size=64)

max_epochs = 1
train_cfg = dict(by_epoch=True, max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=max_epochs, eta_min=1e-5,
         convert_to_iter_based=True)]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=max_epochs,
                                     max_keep_ckpts=1))
