"""Compares two .npy kernels without NumPy (float32/float64, C order, little-endian).
Prints: shape, max |a-b| / max |b| (normwise), max elementwise |a-b| / |b| over entries with |b| > 1e-3 max |b|,
and the non-finite count. Usage: python3 npydiff.py A.npy B.npy   (B is the reference, e.g. the CPU kernel)"""
import array, ast, math, struct, sys
def load(path):
    with open(path, "rb") as f:
        magic = f.read(8)
        if magic[:6] != b"\x93NUMPY": raise ValueError(path + ": not a .npy file")
        hlen = struct.unpack("<H", f.read(2))[0] if magic[6] == 1 else struct.unpack("<I", f.read(4))[0]
        h = ast.literal_eval(f.read(hlen).decode("latin1"))
        if h["fortran_order"]: raise ValueError(path + ": Fortran order")
        code = {"<f4": "f", "<f8": "d"}[h["descr"]]
        a = array.array(code); a.frombytes(f.read())
        return tuple(h["shape"]), h["descr"], a
sa, da, a = load(sys.argv[1]); sb, db, b = load(sys.argv[2])
if sa != sb or len(a) != len(b): print("SHAPE MISMATCH %s %s vs %s %s" % (sa, da, sb, db)); sys.exit(1)
nonfinite = sum(1 for x in a if not math.isfinite(x)) + sum(1 for x in b if not math.isfinite(x))
scale = max((abs(x) for x in b if math.isfinite(x)), default=0.0)
maxabs = max((abs(x - y) for x, y in zip(a, b) if math.isfinite(x) and math.isfinite(y)), default=0.0)
floor = 1e-3 * scale
elem = max((abs(x - y) / abs(y) for x, y in zip(a, b) if abs(y) > floor and math.isfinite(x)), default=0.0)
print("shape=%s dtype=%s/%s normwise_rel=%.3e elem_rel=%.3e max_abs=%.3e scale=%.3e nonfinite=%d"
      % ("x".join(map(str, sa)), da, db, maxabs / scale if scale else float("nan"), elem, maxabs, scale, nonfinite))
