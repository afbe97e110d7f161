# MSI + RGB (B04-B03-B02 composite) + location in one sequence: eurosat_joint_msi_location.py
# with the RGB composite added (modality dropout 0.3 on RGB and location; same budget and seed).
# allspark train msi::eurosat_joint_msi_rgb_location.py
_base_ = ['msi::eurosat_joint_msi_location.py']

inputs = ['msi', 'rgb', 'location']
train_dataloader = dict(dataset=dict(modalities=inputs))
val_dataloader = dict(dataset=dict(modalities=inputs))
test_dataloader = val_dataloader
