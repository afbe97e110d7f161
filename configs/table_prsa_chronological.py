# Table plugin, PRSA with a chronological split: the first 40 % of the time span
# (2013-03-01 .. 2014-10-07) trains, the rest tests.  Same model and schedule as table_prsa.py.
#   python tools/benchmarks/prsa.py configs/table_prsa_chronological.py
_base_ = ['./table_prsa.py']

split_mode = 'chronological'
train_dataloader = dict(dataset=dict(split_mode=split_mode))
test_dataloader = dict(dataset=dict(split_mode=split_mode))
