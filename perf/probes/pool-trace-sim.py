import sys
for fn in sys.argv[1:]:
    calls=[]; cur=None
    for l in open(fn):
        f=l.split()
        if f[0]=='CALL': cur=[]; calls.append(cur); continue
        if cur is not None and f[0] in 'MHFDX': cur.append((f[0],int(f[1]),int(f[2])))
    c=calls[-2]
    out={}; peak=0; s=0; sizes={}
    for ev,i,b in c:
        if ev in 'MH': out[i]=b; s+=b; peak=max(peak,s)
        elif ev in 'FD' and i in out: s-=out.pop(i)
    # W: per size, max concurrently outstanding count
    cnt={}; mx={}
    for ev,i,b in c:
        if ev in 'MH': cnt[b]=cnt.get(b,0)+1; mx[b]=max(mx.get(b,0),cnt[b])
        elif ev in 'FD': cnt[b]=cnt.get(b,0)-1
    W=sum(b*n for b,n in mx.items())
    print(fn, 'rentals',sum(1 for e in c if e[0] in 'MH'),'misses',sum(1 for e in c if e[0]=='M'),'missMB',sum(e[2] for e in c if e[0]=='M')/1e6,'peak outstanding MB',peak/1e6,'W (exact sizes) MB',W/1e6,'never returned MB',sum(out.values())/1e6, 'distinct sizes', len(mx))
