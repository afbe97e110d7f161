# MSI alone: eurosat_joint_msi_location.py with only the 13 bands in the sequence (same model
# config, budget and seed; the location and RGB encoders are configured but never fed).
# allspark train msi::eurosat_joint_msi.py
_base_ = ['msi::eurosat_joint_msi_location.py']

inputs = ['msi']
train_dataloader = dict(dataset=dict(modalities=inputs))
val_dataloader = dict(dataset=dict(modalities=inputs))
test_dataloader = val_dataloader
