#!/usr/bin/env bash
# Issue 12 goal 2 (steady calls): A/B of builds or runtime settings on `peer-row ROW --reps K` (one warm-up call, then
# K timed warm calls in one process), sides alternating per round, each process under /usr/bin/time for its peak RSS.
# Prints the raw lines, then per row and side: median [min–max], max/min, the first warm call / median, median
# allocated MB, full GCs and minor faults per warm call, peak RSS, and peer-row's same-run noise control (the reference
# SGEMM's max/min per process, other processes' CPU ms and our involuntary context switches per call). Takes
# /tmp/heavy.lock per process.
# Usage: perf/spread-ab.sh [--rows cnn,fcn] [--rounds R] [--reps K] SIDE...
#   SIDE = label=DLL or label=DLL@ENV=V[,ENV=V...]   (e.g. base=/tmp/b/NeuralTangents.Perf.dll
#          tc0=perf/NeuralTangents.Perf/bin/Release/net10.0/NeuralTangents.Perf.dll@DOTNET_TieredCompilation=0)
set -uo pipefail
rows=cnn,cnn-full,fcn,fcn-full,fcn-vp,digits; rounds=2; reps=15; sides=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    *) sides+=("$1"); shift ;;
  esac
done
[ ${#sides[@]} -gt 0 ] || { echo "usage: $0 [--rows a,b] [--rounds R] [--reps K] label=DLL[@ENV=V,...]..." >&2; exit 2; }
raw=$(mktemp)
echo "# spread-ab $(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, rows $rows, $rounds rounds × $reps warm calls, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
  for row in ${rows//,/ }; do
    n=${#sides[@]}
    for ((slot = 0; slot < n; slot++)); do
      spec=${sides[$(((slot + round - 1) % n))]}
      label=${spec%%=*}; rest=${spec#*=}; dll=${rest%%@*}; envs=()
      [ "$rest" != "$dll" ] && IFS=, read -ra envs <<< "${rest#*@}"
      out=$(flock /tmp/heavy.lock env "${envs[@]}" /usr/bin/time -f "peakRSS %M" dotnet "$dll" peer-row "$row" --reps "$reps" 2>&1)
      echo "$out" | grep -E '^(run|warmup|peakRSS)' | sed "s/^/$row $label $round: /" | tee -a "$raw"
    done
  done
done
echo "# done $(date -u +%H:%M) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$raw" <<'EOF'
import sys, statistics as st, collections
d = collections.OrderedDict()
for line in open(sys.argv[1]):
    head, _, body = line.partition(': ')
    row, label, rnd = head.split()
    s = d.setdefault((row, label), {'t': [], 'first': [], 'a': [], 'g': [], 'f': [], 'j': [], 'jms': [], 'rss': [], 'ref': [], 'oth': [], 'ivcs': []})
    f = body.split()
    if body.startswith('run'):
        t = float(f[2]); s['t'].append(t)
        if f[1] == '1:': s['first'].append(t)
        s['a'].append(float(f[5]) / 1e6); s['g'].append(float(f[7])); s['f'].append(float(f[9]))
        if len(f) > 15 and f[10] == 'jit': s['j'].append(int(f[11])); s['jms'].append(float(f[15]))
        kv = dict(zip(f[16::2], f[17::2]))  # the noise control (peer-row's NoiseProbe), when present
        if 'ref_s' in kv: s['ref'].append(float(kv['ref_s'])); s['oth'].append(float(kv['others_ms'])); s['ivcs'].append(float(kv['ivcs']))
    elif body.startswith('peakRSS'):
        s['rss'].append(int(f[1]) // 1024)
print()
print('| row | side | median [min–max] s | max/min (per process) | reference max/min (per process) | 1st warm call / median | alloc MB / call | full GCs / call | minor faults / call | JIT methods, ms / call (mean) | others\' CPU ms, our invol. switches / call; max/min over quiet calls (others ≤ 20 ms) per process (count) | peak RSS MB |')
print('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
for (row, label), s in d.items():
    if not s['t']: print(f'| {row} | {label} | failed | | | | | | | |'); continue
    m = st.median(s['t'])
    jit = '%.0f, %.0f' % (st.mean(s['j']), st.mean(s['jms'])) if s['j'] else '—'
    # max/min within each process (the goal's 15 warm calls in one process), then over all calls pooled.
    k = len(s['t']) // max(1, len(s['first']))
    per = [max(s['t'][i:i+k]) / min(s['t'][i:i+k]) for i in range(0, len(s['t']), k)]
    ref = ' / '.join(f"{max(s['ref'][i:i+k]) / min(s['ref'][i:i+k]):.2f}" for i in range(0, len(s['ref']), k)) or '—'
    oth = f"{st.mean(s['oth']):.0f}, {st.mean(s['ivcs']):.1f}" if s['ref'] else '—'
    # Calls during which other processes used at most 2 ticks (20 ms) of CPU: max/min per process over those, (count).
    quiet = []
    for i in range(0, len(s['oth']), k):
        q = [t for t, o in zip(s['t'][i:i+k], s['oth'][i:i+k]) if o <= 20]
        quiet.append(f"{max(q) / min(q):.2f} ({len(q)})" if len(q) >= 2 else f"— ({len(q)})")
    oth += '; quiet calls ' + ' / '.join(quiet) if quiet else ''
    print(f"| {row} | {label} | {m:.3f} [{min(s['t']):.3f}–{max(s['t']):.3f}] | {' / '.join(f'{p:.2f}' for p in per)} | {ref} | "
          f"{' / '.join(f'{x / m:.2f}' for x in s['first'])} | {st.median(s['a']):.1f} | {st.mean(s['g']):.1f} | {st.median(s['f']):.0f} | "
          f"{jit} | {oth} | "
          f"{' / '.join(map(str, s['rss']))} |")
EOF
rm -f "$raw"
