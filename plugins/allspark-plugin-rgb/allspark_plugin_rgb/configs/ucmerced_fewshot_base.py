# RGB plugin: the feature model for UC Merced few-shot evaluation (`allspark fewshot`), trained on
# the 15 BASE classes only -- all their images in ../shared/data/ucmerced: 15 x 4 = 60 images.
# The six novel classes (beach, golfcourse, mobilehomepark, river, sparseresidential,
# tenniscourt) are never seen in training; no pretrained weights (nothing is downloaded).
# Encoder: a small ViT (timm vit_tiny_patch16_224 layout, 6 blocks, 96 px -> 36 patch tokens +
# class token) from scratch -> Perceiver bridge -> frozen MiniLM -> TextPrototypeHead: each class
# is its name passed through the language model after the RGB prompt, so the trained model has a
# classifier for any class name (zero-shot) and its features live in the language model's space.
#   allspark train rgb::ucmerced_fewshot_base.py
#   allspark fewshot rgb::ucmerced_fewshot_base.py work_dirs/ucmerced_fewshot_base/epoch_40.pth \
#       --way 5 --shot 1 5 --query 15 --episodes 600 --seed 0
# Users with a large pretrained encoder: replace model.modalities.rgb.encoder (e.g. the frozen
# EVA-g of rgb_ucmerced_evag.py with checkpoint_path=...), the rest stays.
_base_ = ['allspark::_base_/default_runtime.py', 'allspark::_base_/language_model.py']

data_root = '../shared/data/ucmerced'
img_size = 96
base_classes = ['agricultural', 'airplane', 'baseballdiamond', 'buildings', 'chaparral',
                'denseresidential', 'forest', 'freeway', 'harbor', 'intersection',
                'mediumresidential', 'overpass', 'parkinglot', 'runway', 'storagetanks']
# readable names in label order (the dataset's metainfo['class_texts'])
base_class_texts = ['agricultural field', 'airplane', 'baseball diamond', 'buildings',
                    'chaparral', 'dense residential area', 'forest', 'freeway', 'harbor',
                    'intersection', 'medium residential area', 'overpass', 'parking lot',
                    'runway', 'storage tanks']
model = dict(
    type='AllSpark',
    data_preprocessor=dict(type='AllSparkDataPreprocessor', normalize=dict(rgb=dict(channels=3))),
    modalities=dict(rgb=dict(
        encoder=dict(type='TimmTokenEncoder', model_name='vit_tiny_patch16_224',
                     pretrained=False, frozen=False, img_size=img_size,
                     model_kwargs=dict(depth=6, drop_path_rate=0.1)),
        bridge=dict(type='PerceiverBridge', num_queries=8, depth=1, num_heads=4))),
    language_model={{_base_.language_model}},
    head=dict(type='TextPrototypeHead', class_texts=base_class_texts, modality='rgb',
              norm='batch', label_smoothing=0.1),
)

train_pipeline = [
    dict(type='Resize', size=128, keys='rgb'),
    dict(type='RGBRandomResizedCrop', size=img_size, scale=(0.5, 1.0)),
    dict(type='RandomFlip', prob=0.5, directions=('horizontal', 'vertical'), keys='rgb'),
    dict(type='RandomRotate90', keys='rgb'),
    dict(type='RGBColorJitter', brightness=0.2, contrast=0.2),
]
test_pipeline = [dict(type='Resize', size=img_size, keys='rgb')]
train_dataloader = dict(
    batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='allspark.collate'),
    dataset=dict(type='UCMercedDataset', data_root=data_root, split='all', classes=base_classes,
                 pipeline=train_pipeline))
# no validation: the base classes have 4 images each, all used for training
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None

# what `allspark fewshot` evaluates on: novel pool and base pool (for choosing the fusion
# weights and the linear probe's C, and the feature mean), both without augmentation
fewshot = dict(
    modality='rgb',
    dataset=dict(type='UCMercedDataset', data_root=data_root, split='all',
                 pipeline=test_pipeline),
    batch_size=30,
    # printed beside our rows for orientation only: other encoders (EVA-g, CLIP), all 2,100
    # UC Merced images, other base/novel data sizes
    published=[
        dict(method='AllSpark paper (frozen EVA-g, 5-way)', acc={'1': 95.58, '5': 97.64},
             note='AllSpark paper, UC Merced 5-way 1/5-shot'),
        dict(method='ProtoNet (as reported in the AllSpark paper)', acc={'1': 53.85, '5': 71.23},
             note='episodic baseline of the AllSpark paper'),
        dict(method='frozen CLIP zero-shot (RS-CLIP table)', acc={'5': 89.17},
             note='RS-CLIP paper, UC Merced, zero-shot CLIP row of its 5-shot table'),
    ])

max_epochs = 40  # 40 x 60 = 2,400 image passes (the budget ProtoNet gets too)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.05),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=3,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=3, end=max_epochs, T_max=max_epochs - 3,
         eta_min=1e-5, convert_to_iter_based=True),
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=max_epochs,
                                     max_keep_ckpts=1),
                     logger=dict(type='LoggerHook', interval=4))
