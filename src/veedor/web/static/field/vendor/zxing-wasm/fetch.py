"""Fetch zxing-wasm from the npm registry into this folder (see README.md): the tarball's
integrity is checked against the registry's ``dist.integrity`` (SHA-512), then the IIFE reader
bundle and its WebAssembly are copied here and their SHA-256 printed. Python's standard library
only; npm is not needed."""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import shutil
import tarfile
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REGISTRY = "https://registry.npmjs.org/zxing-wasm"
FILES = {
    "package/dist/iife/reader/index.js": "reader.js",
    "package/dist/reader/zxing_reader.wasm": "zxing_reader.wasm",
    "package/LICENSE": "LICENSE",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--version", default="3.1.8")
    args = parser.parse_args()
    with urllib.request.urlopen(f"{REGISTRY}/{args.version}", timeout=60) as answer:
        meta = json.load(answer)
    dist = meta["dist"]
    with urllib.request.urlopen(dist["tarball"], timeout=120) as answer:
        tarball = answer.read()
    algorithm, _, expected = dist["integrity"].partition("-")
    if algorithm != "sha512" or base64.b64decode(expected) != hashlib.sha512(tarball).digest():
        raise SystemExit(f"integrity check failed for {dist['tarball']}: nothing copied")
    print(f"package  zxing-wasm {args.version}, licence {meta.get('license')}")
    print(f"tarball  {hashlib.sha256(tarball).hexdigest()}  {dist['tarball']}")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member, name in FILES.items():
            source = archive.extractfile(member)
            if source is None:
                raise SystemExit(f"{member} missing from the package: nothing more copied")
            data = source.read()
            with (HERE / name).open("wb") as target:
                shutil.copyfileobj(io.BytesIO(data), target)
            print(f"{name:18} {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
