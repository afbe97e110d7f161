"""Make a fake installed distribution (a ``*.dist-info`` with ``entry_points.txt``) on sys.path,
so discovery tests see plugins exactly as pip would install them."""
import os
import sys
import textwrap

from allspark import plugins


def make_distribution(root: str, dist: str, version: str, entry_points: dict,
                      package_dirs: tuple = ()) -> str:
    """Write ``<root>/<dist>-<version>.dist-info``; return ``root`` (to put on sys.path)."""
    info = os.path.join(root, f'{dist.replace("-", "_")}-{version}.dist-info')
    os.makedirs(info, exist_ok=True)
    with open(os.path.join(info, 'METADATA'), 'w') as f:
        f.write(f'Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n')
    with open(os.path.join(info, 'entry_points.txt'), 'w') as f:
        f.write('[allspark.plugins]\n')
        for name, target in entry_points.items():
            f.write(f'{name} = {target}\n')
    return root


def write_module(root: str, relpath: str, source: str) -> None:
    path = os.path.join(root, relpath)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(textwrap.dedent(source))


class PluginSandbox:
    """Context: extra sys.path entries + fresh discovery; restores both afterwards."""

    def __init__(self, *paths: str):
        self.paths = paths

    def __enter__(self):
        for p in self.paths:
            sys.path.insert(0, p)
        plugins.reset_for_tests()
        return plugins.load_plugins()

    def __exit__(self, *exc):
        for p in self.paths:
            sys.path.remove(p)
        plugins.reset_for_tests()
