import struct, sys
def rows(path):
    out=[]
    for line in open(path):
        line=line.strip()
        if not line: continue
        v=[float(t) for t in line.split(',')]
        out.append([x/16.0 for x in v[:64]])
    return out
def save(path, data, fmt):
    n=len(data); d=len(data[0])
    descr = '<f8' if fmt=='d' else '<f4'
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }" % (descr, n, d)
    total = 10 + len(header) + 1
    pad = (64 - total % 64) % 64
    header = header + ' '*pad + '\n'
    with open(path,'wb') as f:
        f.write(b'\x93NUMPY\x01\x00'); f.write(struct.pack('<H', len(header))); f.write(header.encode('latin1'))
        for r in data: f.write(struct.pack('<%d%s' % (d, fmt), *r))
# Inputs of the issue-11 runs: python3 mknpy.py <optdigits folder>  (writes into the current folder)
d=sys.argv[1] if len(sys.argv) > 1 else '/work/shared/data/optdigits'
tra=rows(d + '/optdigits.tra'); tes=rows(d + '/optdigits.tes')
print(len(tra), len(tes))
save('digits400.npy', tra[:400], 'd')
save('digits-all-f32.npy', tra+tes, 'f')
save('digits-all-f64.npy', tra+tes, 'd')
save('digits1000-f32.npy', tra[:1000], 'f')
import random
random.seed(0)
n=5*32*32*3
h="{'descr': '<f4', 'fortran_order': False, 'shape': (5, 32, 32, 3), }"
t=10+len(h)+1; h=h+' '*((64-t%64)%64)+'\n'
with open('seedx.npy','wb') as f:   # the seed page's FCN example input, N(0,1)
    f.write(b'\x93NUMPY\x01\x00'); f.write(struct.pack('<H',len(h))); f.write(h.encode())
    f.write(struct.pack('<%df'%n, *[random.gauss(0,1) for _ in range(n)]))
