# K = 1 variant of trajectory_eth.py: one hypothesis, trained on every window (plain L2 / ADE loss).
_base_ = ['./trajectory_eth.py']
model = dict(head=dict(num_modes=1))
