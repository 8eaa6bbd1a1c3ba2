#!/usr/bin/env python3
"""Write a half-precision copy of an embedding model directory, for the .deb.

Usage: scripts/model-f16.py SRC_DIR DST_DIR

model.safetensors is rewritten with every F32 tensor as F16 (all-MiniLM-L6-v2: 87 MiB ->
44 MiB; trove-embed reads either and computes in f32). tokenizer.json and config.json are
copied. Python's standard library only: the safetensors layout (8-byte little-endian header
length, a JSON header, the raw tensor bytes) is read and written here, and `struct`'s "e"
format rounds each value to the nearest half.
"""
import json
import shutil
import struct
import sys
from array import array
from pathlib import Path


def main(src: Path, dst: Path) -> None:
    raw = (src / "model.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    meta = header.pop("__metadata__", None)
    out_header, chunks, offset = {}, [], 0
    for name, t in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = t["data_offsets"]
        buf = data[begin:end]
        dtype = t["dtype"]
        if dtype == "F32":
            values = array("f", buf)
            if sys.byteorder != "little":
                values.byteswap()
            buf = struct.pack(f"<{len(values)}e", *values)
            dtype = "F16"
        out_header[name] = {
            "dtype": dtype,
            "shape": t["shape"],
            "data_offsets": [offset, offset + len(buf)],
        }
        chunks.append(buf)
        offset += len(buf)
    if meta is not None:
        out_header["__metadata__"] = meta
    head = json.dumps(out_header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    dst.mkdir(parents=True, exist_ok=True)
    with open(dst / "model.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for c in chunks:
            f.write(c)
    for name in ("tokenizer.json", "config.json"):
        shutil.copyfile(src / name, dst / name)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
