# Trajectory, ETH-UCY: trajectory::eth.py with every hypothesis = constant velocity + a learned
# residual (head prior_key + TrajConstantVelocityPrior, last in every pipeline) and hypothesis 0 a
# dedicated forecast trained on every window (mean_mode; the K = 1 answer), winner-takes-all and
# the scorer on the other 19. Why: on folds unlike the training scenes the free hypotheses all fell
# behind constant velocity and the scorer's K = 1 pick was near random (docs/results/trajectory.md,
# session 6). Any fold: --data-root ../shared/data/eth_ucy/<fold>.
#   python tools/train.py trajectory::eth_residual.py
_base_ = ['./eth.py']

prior = dict(type='TrajConstantVelocityPrior', key='seq_prior')
model = dict(head=dict(prior_key='seq_prior', mean_mode=True))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='TrajCanonicalRotate'), dict(type='TrajRandomRotate', max_angle=15.0),
    dict(type='TrajRandomFlip', prob=0.5), dict(type='TrajRandomScale', low=0.9, high=1.1),
    prior]))
val_dataloader = dict(dataset=dict(pipeline=[dict(type='TrajCanonicalRotate'), prior]))
test_dataloader = dict(dataset=dict(pipeline=[dict(type='TrajCanonicalRotate'), prior]))
