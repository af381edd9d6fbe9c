# Summarises eng/bench-before-after.sh runs: per build, the median over runs of each CPU-per-call figure, and after/before.
import re, sys, glob, statistics as st
d = sys.argv[1]
rows = {}
for f in sorted(glob.glob(f'{d}/*-*.md')):
    build = f.split('/')[-1].split('-')[0]
    text = open(f).read()
    sec = text[text.index('### CPU per call'):]
    sec = sec[:sec.index('\n### ', 5)] if '\n### ' in sec[5:] else sec
    for line in sec.split('\n'):
        m = re.match(r'\| (int|4 KB object) \| RpcGen \| ([\d.]+) \| ([\d.]+) \((\d+)\+(\d+)\+(\d+)\) \| ([\d.]+)× \| ([\d.]+) \| ([\d.]+) \((\d+)\+(\d+)\+(\d+)\) \| ([\d.]+)× \|', line)
        if not m: continue
        p = m.group(1); g = [float(x) for x in m.groups()[1:]]
        for n, off in ((16, 0), (256, 6)):
            key = (p, n)
            rows.setdefault(key, {}).setdefault(build, []).append(dict(total=g[off+1], cs=g[off+2]+g[off+3], be=g[off+5]))
print('| payload | in flight | runs | before: CPU µs/call (client+server) | after | after/before | before: × best effort | after | after/before |')
print('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
for (p, n), b in sorted(rows.items()):
    if 'before' not in b or 'after' not in b: continue
    med = lambda k, w: st.median(r[k] for r in b[w])
    print(f"| {p} | {n} | {len(b['before'])}+{len(b['after'])} | {med('total','before'):.0f} ({med('cs','before'):.0f}) | {med('total','after'):.0f} ({med('cs','after'):.0f}) | "
          f"{med('total','after')/med('total','before'):.2f} ({med('cs','after')/med('cs','before'):.2f}) | {med('be','before'):.2f} | {med('be','after'):.2f} | {med('be','after')/med('be','before'):.2f} |")
