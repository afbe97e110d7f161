# HSI plugin: Samson (95 x 95 pixels, 156 bands, 3 endmembers rock / tree / water), per-pixel
# classification of the argmax of the abundance ground truth (every pixel labelled; mixed pixels
# included, min_purity=0). The file layout differs from Salinas-A: the cube is a bands x pixels
# matrix V (156, 9025) with nRow / nCol, pixels in MATLAB column-major order, and the ground
# truth is the abundance matrix A (3, 9025) with the class names in `cood` (docs: the HSI
# reader's module docstring). Same model and recipe as hsi::salinas_a.py (40 % of each class's
# pixels train, seed 0).
#   python tools/train.py hsi::samson.py
#   allspark benchmark hsi --scenes samson --seeds 0 1 2     (AllSpark + RBF SVM, same pixels)
_base_ = ['./salinas_a.py']

data_root = '../shared/data/hsi/samson'
num_bands = 156
num_classes = 3
train_ratio = 0.4
work_png = 'work_dirs/hsi_samson/samson_map.png'
dataset_cfg = dict(type='HSIPixelDataset', data_root=data_root, image_file='samson_1.mat',
                   gt_file='GroundTruth/end3.mat', num_bands=num_bands,
                   train_ratio=train_ratio, seed=0, nodata_policy='exclude',
                   gt_type='abundance', min_purity=0.0, pixel_order='F')
model = dict(
    data_preprocessor=dict(normalize=dict(hsi=dict(channels=num_bands, dim=1))),
    modalities=dict(hsi=dict(encoder=dict(num_bands=num_bands))),
    head=dict(num_classes=num_classes))
train_dataloader = dict(dataset=dict(_delete_=True, split='train', **dataset_cfg, pipeline=[
    dict(type='SpectralJitter', scale=0.03, noise=0.005)]))
test_dataloader = dict(dataset=dict(_delete_=True, split='test', **dataset_cfg))
test_evaluator = dict(num_classes=num_classes, map_png=work_png)
