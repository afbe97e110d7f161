# HSI plugin: Samson with Salinas-A's session-5 ingredients on the 20-epoch hsi::samson.py
# budget: a token projected from the whole spectrum + Mixup (alpha 1.0) on the normalised
# spectra. Why for this scene: every pixel is labelled by the argmax of its abundances, so many
# training pixels are mixtures of rock, tree and water; Mixup trains on exactly such linear
# mixtures with mixed labels. Chosen against hsi::samson.py on held-out training pixels only:
#   allspark benchmark hsi --scenes samson --config samson=hsi::samson_mixup.py --seeds 0 --holdout 0.25 --fold 0
_base_ = ['./samson.py']

model = dict(
    data_preprocessor=dict(batch_augments=[dict(type='Mixup', alpha=1.0, modalities=['hsi'])]),
    modalities=dict(hsi=dict(encoder=dict(spectrum_token=True))))
test_evaluator = dict(map_png='work_dirs/hsi_samson_mixup/samson_map.png')
