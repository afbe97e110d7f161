"""Cross-modal retrieval and geolocation of an alignment checkpoint (pair table, JSON, PNG).

    allspark retrieval CONFIG CHECKPOINT [--split test] [--gallery train grid geoclip]
                                         [--grid-step 1.0] [--out-dir DIR] [--cfg-options ...]

For a model with an ``AlignmentHead`` (``fusion='direct'`` or ``'separate'``):

* embeds every sample of the evaluation split (the modalities each sample has);
* prints Recall@1/5/10 and the median rank of every ordered modality pair, the whole split as
  gallery (``allspark.evaluation.alignment``);
* geolocates every query of every other modality by retrieval over coordinate galleries embedded
  by the model's location modality: the training split's coordinates (``train``), a regular
  global grid (``grid``, ``--grid-step`` degrees), a regular grid over the training coordinates'
  bounding box plus ``--region-margin`` degrees (``region``, ``--region-step``) and GeoCLIP's 100K
  gallery (``geoclip``, when the optional package is installed); the share within
  1/25/200/750/2500 km and the median error,
  next to the baseline that puts every query at the training-set centroid;
* writes ``retrieval.json`` and ``retrieval.png`` (a few queries with their top-5 matches; a map
  of predicted vs. true locations) to ``--out-dir`` (default: beside the checkpoint).
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Optional

from allspark.commands import add_config_arguments, run_command

GALLERIES = ('train', 'grid', 'region', 'geoclip')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser)
    parser.add_argument('checkpoint', help='checkpoint file of the alignment model')
    parser.add_argument('--split', choices=['test', 'val'], default='test',
                        help='which dataloader of the config is evaluated (default: test)')
    parser.add_argument('--gallery', nargs='+', choices=GALLERIES,
                        default=['train', 'grid', 'region'],
                        help='coordinate galleries for geolocation (default: train grid region; '
                             'geoclip needs `pip install geoclip`)')
    parser.add_argument('--region-step', type=float, default=0.25,
                        help='spacing of the region grid in degrees (default 0.25)')
    parser.add_argument('--region-margin', type=float, default=2.0,
                        help='degrees added around the training bounding box (default 2)')
    parser.add_argument('--grid-step', type=float, default=1.0,
                        help='spacing of the global grid gallery in degrees (default 1)')
    parser.add_argument('--topk', default='1',
                        help="predict the spherical centroid of the top-k gallery coordinates; "
                             "'auto' chooses k in {1, 3, 5, 10, 25} by leave-one-out median error "
                             "on the training split against the training gallery (default 1: "
                             "GeoCLIP's top-1)")
    parser.add_argument('--location-modality', default='location',
                        help='the coordinate modality of the model (default: location)')
    parser.add_argument('--num-queries', type=int, default=4,
                        help='queries shown in the PNG (default 4)')
    parser.add_argument('--out-dir', help='where retrieval.json / retrieval.png go '
                                          '(default: the checkpoint\'s folder)')
    parser.add_argument('--no-png', action='store_true', help='skip the figure')


# ---------------------------------------------------------------------------------- helpers
def embed_inputs(model, inputs: dict):
    """``inputs`` (already preprocessed) -> ``({m: (B, E)}, {m: (B,) bool})`` on the CPU."""
    import torch

    with torch.no_grad():
        emb, present = model.head(model.extract_features(inputs))
    return ({m: e.float().cpu() for m, e in emb.items()},
            {m: p.cpu() for m, p in present.items()})


def embed_coordinates(model, latlon, modality: str = 'location', batch_size: int = 2048):
    """Embed an ``(N, 2)`` ``(lat, lon)`` gallery through the model's location path.

    Returns ``(N, E)`` embeddings."""
    import numpy as np
    import torch

    coords = torch.as_tensor(np.asarray(latlon, np.float32))
    device = next(model.parameters()).device
    out = []
    for start in range(0, coords.shape[0], batch_size):
        emb, _ = embed_inputs(model, {modality: coords[start:start + batch_size].to(device)})
        out.append(emb[modality])
    return torch.cat(out)


def display_image(inputs: dict, i: int):
    """An RGB picture ``(H, W, 3)`` of sample ``i`` of a raw (unnormalised) batch, or ``None``."""
    import numpy as np

    if 'rgb' in inputs:
        x = np.asarray(inputs['rgb'][i], np.float32)
        if x.max() > 1.5:  # not a [0, 1] composite
            x = x / max(float(np.percentile(x, 99)), 1e-6)
        return np.clip(x[:3].transpose(1, 2, 0), 0, 1)
    if 'msi' in inputs and inputs['msi'].shape[1] >= 4:
        x = np.asarray(inputs['msi'][i][[3, 2, 1]], np.float32) * 3.0e-4  # B04-B03-B02
        return np.clip(x.transpose(1, 2, 0), 0, 1)
    return None


def collect(model, loader, location: str) -> dict:
    """Embeddings, coordinates and display material of every sample of ``loader``."""
    import numpy as np
    import torch

    embeddings, coords, texts, images, labels = [], [], [], [], []
    for batch in loader:
        raw = batch['inputs']
        data = model.data_preprocessor(batch, False)
        emb, present = embed_inputs(model, data['inputs'])
        mask = raw.get('modality_mask', {})
        for i, sample in enumerate(data['data_samples']):
            embeddings.append({m: e[i] for m, e in emb.items() if bool(present[m][i])})
            c = sample.get('coords')
            if c is None and location in raw and bool(mask.get(location, torch.ones(
                    len(data['data_samples']), dtype=torch.bool))[i]):
                c = raw[location][i]
            coords.append(None if c is None else np.asarray(torch.as_tensor(c).cpu(),
                                                            np.float64))
            texts.append({m: raw[m][i] for m in raw if isinstance(raw[m], list)})
            has = {m for m in raw if m != 'modality_mask'
                   and bool(mask.get(m, torch.ones(len(data['data_samples']),
                                                   dtype=torch.bool))[i])}
            images.append(display_image({m: raw[m] for m in has if isinstance(
                raw[m], torch.Tensor) and raw[m].dim() == 4}, i))
            labels.append(sample.get('class_name', sample.get('gt_label')))
    return dict(embeddings=embeddings, coords=coords, texts=texts, images=images,
                labels=labels)


def training_coordinates(cfg, location: str):
    """``(N, 2)`` ``(lat, lon)`` of the training split (its ``coords`` or location inputs)."""
    import copy

    import numpy as np

    from allspark.registry import DATASETS

    dcfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dcfg['pipeline'] = []
    dataset = DATASETS.build(dcfg)
    out = []
    for i in range(len(dataset)):
        sample = dataset.get_sample(i)
        c = sample.get('coords', sample.get(location))
        if c is None:
            raise KeyError(f'training sample {i} of {type(dataset).__name__} has neither '
                           f'`coords` nor a {location!r} input (keys: {sorted(sample)})')
        out.append(np.asarray(c, np.float64))
    return np.stack(out)


def choose_topk(model, cfg, location: str, train_coords, candidates=(1, 3, 5, 10, 25)) -> dict:
    """Per query modality, the ``k`` with the lowest leave-one-out median error on the training
    split (queries: training samples; gallery: the other training coordinates)."""
    import copy

    import numpy as np
    import torch

    from allspark.evaluation.geolocation import geolocation_scores, retrieve_locations

    lcfg = copy.deepcopy(cfg.train_dataloader)
    lcfg.dataset['pipeline'] = []
    lcfg['sampler'] = dict(type='DefaultSampler', shuffle=False)
    train_found = collect(model, _runner_loader(lcfg), location)
    gallery_emb = embed_coordinates(model, train_coords, location)
    chosen = {}
    for m in sorted({m for e in train_found['embeddings'] for m in e if m != location}):
        rows = [i for i, e in enumerate(train_found['embeddings']) if m in e]
        query = torch.zeros(len(train_coords), gallery_emb.shape[1])
        query[rows] = torch.stack([train_found['embeddings'][i][m] for i in rows])
        errors = {}
        for k in candidates:
            pred = retrieve_locations(query, gallery_emb, train_coords, k=k, exclude_self=True)
            errors[k] = geolocation_scores(pred[rows], np.asarray(train_coords)[rows])['median_km']
        chosen[m] = dict(k=min(errors, key=errors.get), loo_median_km=errors)
    return chosen


def _runner_loader(loader_cfg):
    from mmengine.runner import Runner
    return Runner.build_dataloader(loader_cfg)


def geolocate_all(model, found: dict, galleries: dict, location: str,
                  topk: Optional[dict] = None) -> dict:
    """``{gallery: {query modality: scores}}`` for every modality that is not ``location``."""
    import numpy as np
    import torch

    from allspark.evaluation.geolocation import geolocation_scores, retrieve_locations

    results, predictions = {}, {}
    modalities = sorted({m for e in found['embeddings'] for m in e if m != location})
    for gname, latlon in galleries.items():
        gallery_emb = embed_coordinates(model, latlon, location)
        results[gname] = {}
        for m in modalities:
            rows = [i for i, e in enumerate(found['embeddings'])
                    if m in e and found['coords'][i] is not None]
            if not rows:
                continue
            query = torch.stack([found['embeddings'][i][m] for i in rows])
            k = int((topk or {}).get(m, 1))
            pred = retrieve_locations(query, gallery_emb, latlon, k=k)
            true = np.stack([found['coords'][i] for i in rows])
            results[gname][m] = dict(geolocation_scores(pred, true), gallery_size=len(latlon),
                                     topk=k)
            predictions[(gname, m)] = (rows, pred, true)
    return dict(scores=results, predictions=predictions)


def draw(found: dict, table: dict, geo: dict, path: str, num_queries: int,
         location: str) -> Optional[str]:
    """The PNG: query -> top-5 rows, and a map of predicted vs. true locations."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    emb = found['embeddings']
    image_mods = [m for m in ('msi', 'rgb') if any(m in e for e in emb)]
    others = [m for m in sorted({m for e in emb for m in e}) if m != location]
    query_mod = image_mods[0] if image_mods else (others[0] if others else None)
    if query_mod is None:
        return None
    key_mods = [m for m in ('rgb', 'caption', 'msi', location) if m != query_mod
                and any(m in e for e in emb)]
    key_mod = key_mods[0] if key_mods else None
    n = min(num_queries, len(emb))
    fig = plt.figure(figsize=(14, 2.2 * n + 5))
    grid = fig.add_gridspec(n + 2, 6, height_ratios=[1] * n + [1.3, 1.3])
    if key_mod is not None:
        rows = [i for i, e in enumerate(emb) if query_mod in e and key_mod in e]
        gallery_rows = [i for i, e in enumerate(emb) if key_mod in e]
        keys = torch.stack([emb[i][key_mod] for i in gallery_rows])
        picks = np.linspace(0, len(rows) - 1, n).astype(int) if rows else []
        for r, pick in enumerate(picks):
            qi = rows[pick]
            sims = keys @ emb[qi][query_mod]
            top = sims.topk(min(5, len(gallery_rows))).indices.tolist()
            ax = fig.add_subplot(grid[r, 0])
            _show(ax, found, qi, query_mod, location)
            ax.set_title(f'query ({query_mod})\n{found["labels"][qi]}', fontsize=8)
            for c, t in enumerate(top):
                gi = gallery_rows[t]
                ax = fig.add_subplot(grid[r, c + 1])
                _show(ax, found, gi, key_mod, location)
                hit = gi == qi
                ax.set_title(f'{c + 1}. {key_mod}{" (match)" if hit else ""}\n'
                             f'{found["labels"][gi]}', fontsize=8,
                             color='green' if hit else 'black')
    ax = fig.add_subplot(grid[n:, :])
    key = next(((g, m) for (g, m) in geo['predictions'] if m == query_mod), None)
    if key is None and geo['predictions']:
        key = next(iter(geo['predictions']))
    if key is not None:
        _, pred, true = geo['predictions'][key]
        for (plat, plon), (tlat, tlon) in zip(pred, true):
            ax.plot([tlon, plon], [tlat, plat], color='0.7', lw=0.6, zorder=1)
        ax.scatter(true[:, 1], true[:, 0], s=14, c='black', label='true', zorder=2)
        ax.scatter(pred[:, 1], pred[:, 0], s=14, c='red', marker='x',
                   label=f'predicted from {key[1]} ({key[0]} gallery)', zorder=3)
        lats = np.concatenate([pred[:, 0], true[:, 0]])
        lons = np.concatenate([pred[:, 1], true[:, 1]])
        ax.set_xlim(lons.min() - 3, lons.max() + 3)
        ax.set_ylim(lats.min() - 3, lats.max() + 3)
        ax.set_xlabel('longitude (deg)')
        ax.set_ylabel('latitude (deg)')
        ax.set_aspect('equal')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc='best')
        ax.set_title('geolocation by retrieval over a coordinate gallery', fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _show(ax, found: dict, i: int, modality: str, location: str) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    image = found['images'][i]
    if modality in ('msi', 'rgb') and image is not None:
        ax.imshow(image)
        return
    if modality == location and found['coords'][i] is not None:
        lat, lon = found['coords'][i]
        text = f'({lat:.2f}, {lon:.2f})'
    else:
        text = str(found['texts'][i].get(modality, modality))
    ax.text(0.5, 0.5, text, ha='center', va='center', wrap=True, fontsize=7,
            transform=ax.transAxes)


# ---------------------------------------------------------------------------------- command
def run(args: argparse.Namespace) -> int:
    import numpy as np

    from allspark.config import load_config
    from allspark.engine.runner import build_runner
    from allspark.evaluation.alignment import (
        format_table,
        pairwise_retrieval_table,
        summarise_table,
    )
    from allspark.evaluation.geolocation import (
        geoclip_gallery,
        geoclip_gallery_path,
        geolocation_scores,
        global_grid,
        spherical_centroid,
    )

    if not os.path.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    cfg = load_config(args.config, args.cfg_options, data_root=args.data_root)
    out_dir = args.out_dir or os.path.dirname(os.path.abspath(args.checkpoint))
    os.makedirs(out_dir, exist_ok=True)
    runner = build_runner(cfg, work_dir=args.work_dir or os.path.join(out_dir, 'retrieval_run'))
    runner.load_checkpoint(args.checkpoint, map_location='cpu', strict=True)
    model = runner.model
    model.eval()
    head = getattr(model, 'head', None)
    if not hasattr(head, 'pairs'):
        raise SystemExit(f'{args.config}: the model head is {type(head).__name__}; '
                         f'`allspark retrieval` needs an AlignmentHead')
    location = args.location_modality
    loader = runner.build_dataloader(cfg.get(f'{args.split}_dataloader'))
    found = collect(model, loader, location)

    table = pairwise_retrieval_table(found['embeddings'], head.modalities)
    summary = summarise_table(table, head.pivot or (location if location in head.modalities
                                                    else None))
    print(f'Cross-modal retrieval on the {args.split} split (gallery: the whole split)')
    print(format_table(table))
    means = {k: v for k, v in summary.items() if k.startswith('mean')}
    print(json.dumps(means, indent=2))

    geo_out = dict(scores={}, predictions={})
    centroid = None
    if location in head.modalities:
        train_coords = training_coordinates(cfg, location)
        galleries = {}
        if 'train' in args.gallery:
            galleries['train'] = train_coords.astype(np.float32)
        if 'grid' in args.gallery:
            galleries[f'grid_{args.grid_step:g}deg'] = global_grid(args.grid_step)
        if 'region' in args.gallery:
            lo, hi = train_coords.min(0) - args.region_margin, train_coords.max(0) + \
                args.region_margin
            galleries[f'region_{args.region_step:g}deg'] = global_grid(
                args.region_step, (max(lo[0], -90.0), min(hi[0], 90.0)),
                (max(lo[1], -180.0), min(hi[1], 180.0)))
        if 'geoclip' in args.gallery:
            if geoclip_gallery_path() is None:
                print('[retrieval] geoclip is not installed: skipping the GeoCLIP 100K gallery')
            else:
                galleries['geoclip_100k'] = geoclip_gallery()
        chosen = {}
        if args.topk == 'auto':
            chosen = choose_topk(model, cfg, location, train_coords)
            print('top-k chosen by leave-one-out on the training split: '
                  + ', '.join(f"{m}: k={c['k']}" for m, c in chosen.items()))
            topk = {m: c['k'] for m, c in chosen.items()}
        else:
            topk = {m: int(args.topk) for m in head.modalities}
        geo_out = geolocate_all(model, found, galleries, location, topk)
        geo_out['topk_selection'] = chosen
        truth = np.stack([c for c in found['coords'] if c is not None])
        centre = spherical_centroid(train_coords)
        centroid = dict(geolocation_scores(np.repeat(centre[None], len(truth), 0), truth),
                        centroid_latlon=centre.tolist())
        print('Geolocation (share within km; median error km):')
        for gname, per_mod in geo_out['scores'].items():
            for m, s in per_mod.items():
                print(f'  {gname:>14} {m:>9}: ' + ', '.join(
                    f'{k[7:]} {100 * v:.1f} %' for k, v in s.items() if k.startswith('within'))
                    + f', median {s["median_km"]:.0f} km (n={s["n"]})')
        print(f'  {"centroid":>14} {"baseline":>9}: ' + ', '.join(
            f'{k[7:]} {100 * v:.1f} %' for k, v in centroid.items()
            if k.startswith('within')) + f', median {centroid["median_km"]:.0f} km')

    result = dict(config=args.config, checkpoint=args.checkpoint, split=args.split,
                  fusion=getattr(model, 'fusion', None), pivot=head.pivot,
                  pairs={f'{a}->{b}': s for (a, b), s in table.items()}, summary=summary,
                  geolocation=geo_out['scores'], centroid_baseline=centroid,
                  topk_selection=geo_out.get('topk_selection'))
    json_path = os.path.join(out_dir, 'retrieval.json')
    with open(json_path, 'w') as f:
        json.dump(result, f, indent=2)
    print(f'wrote {json_path}')
    if not args.no_png:
        png = draw(found, table, geo_out, os.path.join(out_dir, 'retrieval.png'),
                   args.num_queries, location)
        if png:
            print(f'wrote {png}')
    return 0


def main(argv=None) -> int:
    return run_command(__name__, argv)
