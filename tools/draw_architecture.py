"""Draw docs/images/architecture.png, the data-flow picture of docs/architecture.md."""
import os

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402


def box(ax, x, y, w, h, text, color):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle='round,pad=0.02', fc=color, ec='#333',
                                lw=1))
    ax.text(x + w / 2, y + h / 2, text, ha='center', va='center', fontsize=8)


def arrow(ax, x0, y0, x1, y1):
    ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle='-|>', mutation_scale=10,
                                 color='#333', lw=1))


def main(out='docs/images/architecture.png'):
    fig, ax = plt.subplots(figsize=(11, 4.2))
    ax.set_xlim(0, 11)
    ax.set_ylim(0, 4.2)
    ax.axis('off')
    rows = [('SAR chip\n(B, 1, 88, 88)', 'SARConvEncoder\n(B, n, d)'),
            ('MSI tile\n(B, 13, 64, 64)', 'MSIViTEncoder\n(B, n, d)'),
            ('trajectory\n(B, 8, 2) + neighbours', 'TrajTransformerEncoder\n(B, n, d)')]
    for i, (inp, enc) in enumerate(rows):
        y = 3.1 - i * 1.1
        box(ax, 0.1, y, 1.7, 0.7, inp, '#e8f1fb')
        box(ax, 2.2, y, 1.8, 0.7, enc, '#fdf0d5')
        box(ax, 4.4, y, 1.7, 0.7, 'PerceiverBridge\nN queries -> (B, N, D)', '#e3f4e1')
        arrow(ax, 1.8, y + 0.35, 2.2, y + 0.35)
        arrow(ax, 4.0, y + 0.35, 4.4, y + 0.35)
        arrow(ax, 6.1, y + 0.35, 6.6, 2.1)
    box(ax, 6.6, 3.3, 1.9, 0.6, 'PromptBank\n"What is this target?"', '#f3e5f5')
    arrow(ax, 7.55, 3.3, 7.55, 2.75)
    box(ax, 6.6, 1.45, 1.9, 1.3, 'language model\n(MiniLM, frozen)\n[prompt ; bridged...]\n'
        '(B, T, D)', '#ffe0e0')
    box(ax, 8.9, 1.75, 1.9, 0.7, 'task head\ncls / reg / seq / retrieval', '#e0f7fa')
    arrow(ax, 8.5, 2.1, 8.9, 2.1)
    box(ax, 8.9, 0.5, 1.9, 0.7, 'loss | predictions\n-> metric', '#f5f5f5')
    arrow(ax, 9.85, 1.75, 9.85, 1.2)
    ax.text(0.1, 0.1, 'modalities present in a sample meet in one sequence (fusion="joint"); '
            'fusion="separate" + RetrievalHead aligns them contrastively', fontsize=7.5,
            color='#555')
    os.makedirs(os.path.dirname(out), exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print('wrote', out)


if __name__ == '__main__':
    main()
