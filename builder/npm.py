"""Front-end packages from npm, fetched once into the cache and checked against their SHA-256,
so that the site carries them and needs no CDN: reveal.js for the slides, minisearch for the
search box, onnxruntime-web for the Try-it page, and axe-core for the tests' check of
accessibility. ``python -m builder.npm``
fetches them all (``make fetch`` runs it)."""
import os
import shutil
import sys
import subprocess
import tarfile
import tempfile
from pathlib import Path

from builder import BuildError
from d2lstyle.weights import cache_dir, sha256

# name: (npm spec, SHA-256 of its tarball, the files the site needs, what it is for)
PACKAGES = {
    'reveal.js': ('reveal.js@4.6.1',
                  '4f4121ef2b8e7e9398bdecd7b3b6ce5e0ee3a2f5af221708eb6c4ce03bcae6be',
                  ('LICENSE', 'dist/reveal.css', 'dist/reveal.js', 'dist/theme/white.css',
                   'dist/theme/fonts/source-sans-pro', 'plugin/notes/notes.js'), 'the slides'),
    'minisearch': ('minisearch@7.2.0',
                   'cb3b8126a3ea65d6b387787294f0792b0ea4a40b70f8f37688066a5638e0218a',
                   ('LICENSE.txt', 'dist/umd/index.js'), 'the search box'),
    # the Try-it page's runtime: WebGPU's build where the browser has an adapter (it loads the
    # asyncify WebAssembly), the plain WebAssembly one otherwise; no licence file in the
    # package: package.json names MIT
    'onnxruntime-web': ('onnxruntime-web@1.31.1',
                        'bdccdb9fbb9ab537247c0c734e9b1d2b1b338b4f2a09faa58f0dc1cfa27c312c',
                        ('package.json', 'dist/ort.wasm.min.js', 'dist/ort-wasm-simd-threaded.mjs',
                         'dist/ort-wasm-simd-threaded.wasm', 'dist/ort.webgpu.min.js',
                         'dist/ort-wasm-simd-threaded.asyncify.mjs',
                         'dist/ort-wasm-simd-threaded.asyncify.wasm'), 'the Try-it page'),
    # not for the site: the tests run it over every page (tests/test_site.py)
    'axe-core': ('axe-core@4.14.1',
                 'e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745',
                 ('LICENSE', 'axe.min.js'), 'the accessibility test'),
}


def npm_package(name):
    """The folder in the cache that holds the files of the package ``name`` of PACKAGES,
    unpacked from its tarball if its SHA-256 is the pinned one; fetched with npm pack once."""
    spec, digest, files, purpose = PACKAGES[name]
    folder = cache_dir() / spec.replace('@', '-')
    if all((folder / file).exists() for file in files):
        return folder
    with tempfile.TemporaryDirectory() as tmp:
        try:
            done = subprocess.run(['npm', 'pack', spec, '--silent', '--pack-destination', tmp],
                                  capture_output=True, text=True, timeout=300)
        except FileNotFoundError:
            raise BuildError(f'npm not found: it fetches {spec} for {purpose} once; install '
                             'Node.js and npm (apt-get install npm) and build again') from None
        archives = list(Path(tmp).glob('*.tgz'))
        if done.returncode or not archives:
            raise BuildError(f'npm pack {spec} failed ({done.stderr.strip()[-300:]}); check '
                             'the connection to the npm registry and build again')
        found = sha256(archives[0])
        if found != digest:
            raise BuildError(f'{spec} from npm has SHA-256 {found}, not {digest}; refusing it')
        with tarfile.open(archives[0]) as archive:
            archive.extractall(tmp, filter='data')
        part = Path(tempfile.mkdtemp(dir=cache_dir(), prefix=f'.{folder.name}.'))
        os.chmod(part, 0o755)  # mkdtemp's is private; the site carries the folder as it is
        for file in files:
            source, target = Path(tmp) / 'package' / file, part / file
            target.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if source.is_dir() else shutil.copyfile)(source, target)
        if folder.exists():  # an older copy missing a file: replaced whole
            shutil.rmtree(folder)
        part.replace(folder)
    return folder


if __name__ == '__main__':
    try:
        for package in PACKAGES:
            print(f'{PACKAGES[package][0]}: {npm_package(package)}')
    except BuildError as err:
        sys.exit(f'builder.npm: {err}')
