# Scoring the EuroSAT alignment model (eurosat_align_all.py) on the 20 SatCLIP S2-100K example
# patches (../shared/data/satclip_s2_examples: 12-band L2A, 256 x 256, global; lat/lon from
# index.csv).  SatCLIPS2Dataset puts the bands in EuroSAT's 13-band order (B10 = 0) and
# block-averages 256 -> 64 px.  Test only (no caption: S2-100K has no class labels).
# allspark retrieval msi::eurosat_align_all_s2_100k.py work_dirs/eurosat_align_all/epoch_20.pth
_base_ = ['msi::eurosat_align_all.py']

s2_root = '../shared/data/satclip_s2_examples'
test_dataloader = dict(
    batch_size=20,
    dataset=dict(_delete_=True, type='SatCLIPS2Dataset', data_root=s2_root,
                 modalities=['msi', 'rgb', 'location']))
val_dataloader = test_dataloader
