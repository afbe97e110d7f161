# pointcloud_modelnet40_cpu.py trained 60 epochs instead of 35, for a run that has both cores
# (2 torch threads; the 35-epoch run shared the machine with the PointNet baseline).
#   OMP_NUM_THREADS=2 python tools/benchmarks/modelnet40.py --config configs/pointcloud_modelnet40_long.py \
#       --work-dir work_dirs/bench_modelnet40_long --skip-baseline --threads 2
_base_ = ['./pointcloud_modelnet40_cpu.py']

max_epochs = 60
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs + 1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=max_epochs, eta_min=1e-5,
         convert_to_iter_based=True)]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=1))
