"""Writes the inputs of perf/gpu-aot-check.sh (no NumPy): seedcnn_x.npy (20,32,32,3) and seedfcn_x.npy (5,32,32,3)
float32 N(0,1) (random.Random(0)), digits_x.npy (N,64) float64 = the first N optdigits training rows, pixels / 16.
Usage: python3 perf/gpu-aot/mkinputs.py OUTDIR [N=200]"""
import os, random, struct, sys
def save(path, data, shape, code):
    descr = "<f4" if code == "f" else "<f8"
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, ", ".join(map(str, shape)) + ("," if len(shape) == 1 else ""))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(struct.pack("<%d%s" % (len(data), code), *data))
out = sys.argv[1]; n = int(sys.argv[2]) if len(sys.argv) > 2 else 400
os.makedirs(out, exist_ok=True)
rng = random.Random(0)
save(os.path.join(out, "seedcnn_x.npy"), [rng.gauss(0, 1) for _ in range(20 * 32 * 32 * 3)], (20, 32, 32, 3), "f")
save(os.path.join(out, "seedfcn_x.npy"), [rng.gauss(0, 1) for _ in range(5 * 32 * 32 * 3)], (5, 32, 32, 3), "f")
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "optdigits", "optdigits.tra")
rows = [list(map(int, l.split(",")))[:64] for l in open(root) if l.strip()][:n]
save(os.path.join(out, "digits_x.npy"), [v / 16.0 for r in rows for v in r], (len(rows), 64), "d")
