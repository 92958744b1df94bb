"""Writes the first n optdigits training images as an (n, 8+2·pad, 8+2·pad, 1) float64 .npy (values/16), no NumPy needed.
Usage: python3 perf/mknpy.py N PAD OUT.npy"""
import os, struct, sys
def save(path, data, shape):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%s), }" % (", ".join(map(str, shape)) + ("," if len(shape) == 1 else ""))
    total = 10 + len(header) + 1
    header += " " * ((64 - total % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(struct.pack("<%dd" % len(data), *data))
n = int(sys.argv[1]); pad = int(sys.argv[2]) if len(sys.argv) > 2 else 0
rows = [list(map(int, l.split(","))) for l in open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "optdigits", "optdigits.tra")) if l.strip()][:n]
data = []
size = 8 + 2 * pad
for r in rows:
    img = [[0.0] * size for _ in range(size)]
    for i in range(8):
        for j in range(8): img[i + pad][j + pad] = r[i * 8 + j] / 16.0
    for i in range(size):
        for j in range(size): data.append(img[i][j])
save(sys.argv[3] if len(sys.argv) > 3 else "x%d.npy" % n, data, (n, size, size, 1))
