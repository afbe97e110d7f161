# Location plugin: California median house value (20,640 block groups) from (lat, lon) alone,
# log1p target, seeded random 50/50 split.  Same model as air_temperature.py.
#   allspark train location::california_housing.py
_base_ = ['./air_temperature.py']

data_root = '../shared/data/geo_regression/california_housing'
dataset_cfg = dict(type='CoordinateTableDataset', data_root=data_root, file='housing.csv',
                   lat_column='latitude', lon_column='longitude',
                   target_column='median_house_value', log_target=True,
                   split_mode='random', train_ratio=0.5, seed=0)
train_dataloader = dict(dataset=dict(_delete_=True, split='train', pipeline=[
    dict(type='CoordinateJitter', sigma_km=0.2)], **dataset_cfg))
test_dataloader = dict(dataset=dict(_delete_=True, split='test', **dataset_cfg))
