# Table plugin, PRSA with a chronological split: the first 40 % of the time span
# (2013-03-01 00h .. 2014-10-06 09h) trains, the rest tests.  Same model and schedule as
# table_prsa.py.
# Every test row lies after the training period: its absolute time would fall into the last
# training bin (whose embedding learnt the pollution level of a few days in October 2014) and
# its year (2015-2017) is unseen. A first run that clipped time to the last bin scored
# RMSE 64.8 / R^2 0.42 (docs/results/table.md). Here time values outside the training range
# become the missing token (outside='missing'; unseen years already do), and training masks the
# year and time tokens of half the rows (TableColumnDropout column_p), so the model also learns
# to predict without them. The calendar columns (month, hour, weekday) keep the cycles.
#   allspark benchmark prsa --splits chronological --seeds 0
_base_ = ['./prsa.py']

split_mode = 'chronological'
columns = [
    dict(name='station'), dict(name='wd'), dict(name='year'), dict(name='month'),
    dict(name='hour'), dict(name='weekday'), dict(name='time', bins=2048, outside='missing'),
    dict(name='SO2'), dict(name='NO2'), dict(name='CO'), dict(name='O3'), dict(name='TEMP'),
    dict(name='PRES'), dict(name='DEWP'), dict(name='RAIN'), dict(name='WSPM')]
train_dataloader = dict(dataset=dict(
    split_mode=split_mode, columns=columns,
    pipeline=[dict(type='TableColumnDropout', p=0.05, column_p={'2': 0.5, '6': 0.5})]))
test_dataloader = dict(dataset=dict(split_mode=split_mode, columns=columns))
