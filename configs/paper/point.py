# The AllSpark paper's point cloud setup (Table XV: 7594.81M total, 1118.54M trainable): the
# Point-BERT-style encoder at the paper's size (pointcloud plugin: 64 FPS groups x 32
# neighbours, mini-PointNet 128-256-512, transformer width 384, 12 layers, 6 heads). One modal
# bridge at the LM's width, the frozen Vicuna-7B, a linear head; ModelNet40 data from
# pointcloud::modelnet40.py. Not for this CPU.
_base_ = ['pointcloud::modelnet40.py', './_base_/vicuna_7b.py']
model = dict(
    modalities=dict(pointcloud=dict(
        encoder=dict(num_groups=64, group_size=32, embed_dim=384, depth=12, num_heads=6,
                     mlp_ratio=4.0, mini_channels=(128, 256, 512)),
        bridge={{_base_.paper_bridge}})),
    language_model={{_base_.paper_language_model}})
