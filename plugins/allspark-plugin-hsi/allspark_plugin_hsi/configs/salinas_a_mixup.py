# Salinas-A 40 %: the model chosen in session 5 by 4-fold cross-validation on the training
# pixels (docs/results/hsi.md): hsi_salinas_a_60ep.py (60 epochs, no label smoothing, no jitter)
# + a token projected from the whole spectrum + Mixup (alpha 1.0) on the normalised spectra.
#   allspark benchmark hsi --scenes salinas_a --config salinas_a=hsi::salinas_a_mixup.py --seeds 0            (+ RBF SVM)
#   allspark benchmark hsi --scenes salinas_a --config salinas_a=hsi::salinas_a_mixup.py --seeds 0 --holdout 0.25 --fold 1
_base_ = ['./salinas_a_60ep.py']

model = dict(
    data_preprocessor=dict(batch_augments=[dict(type='Mixup', alpha=1.0, modalities=['hsi'])]),
    modalities=dict(hsi=dict(encoder=dict(spectrum_token=True))))
test_evaluator = dict(map_png='work_dirs/hsi_salinas_a_mixup/salinas_a_map.png')
