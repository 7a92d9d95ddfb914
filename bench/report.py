#!/usr/bin/env python3
"""Prints bench/load.sh's tables: medians of the rounds, absolute and as ratios, and the targets."""
import statistics
import sys
from collections import defaultdict

results, extra, rounds, duration, connections = sys.argv[1:6]
values = defaultdict(list)
for line in open(results):
    round_, target, case, metric, value = line.rstrip("\n").split("\t")
    number = None
    if metric != "p99":
        try:
            number = float(value)
        except ValueError:
            number = None
    else:
        unit = value[-2:] if value.endswith(("ms", "us")) else value[-1:]
        amount = float(value[: -len(unit)]) if value else float("nan")
        number = amount * {"us": 0.001, "ms": 1.0, "s": 1000.0}.get(unit, 1.0)
    values[(target, case, metric)].append(number if number is not None else float("nan"))

def med(target, case, metric):
    numbers = [v for v in values.get((target, case, metric), []) if v == v]
    return statistics.median(numbers) if numbers else float("nan")

targets = []
for (target, _, _) in values:
    if target not in targets:
        targets.append(target)
conns = connections.split()
columns = [(f"small-c{c}", "rps", f"req/s c={c}") for c in conns] + [
    ("small-c16", "p99", "p99 ms c=16"), ("download", "MiBps", "10MiB down MiB/s"), ("upload", "MiBps", "10MiB up MiB/s")]

def table(title, transform):
    print(f"\n{title}\n")
    print("| target | " + " | ".join(c[2] for c in columns) + " | errors |")
    print("|---|" + "---|" * (len(columns) + 1))
    for target in targets:
        cells = [transform(target, c) for c in columns]
        errors = sum(med(target, f"small-c{c}", "errors") or 0 for c in conns)
        print(f"| {target} | " + " | ".join(cells) + f" | {errors:.0f} |")

table(f"Absolute (median of {rounds} rounds of {duration} each)",
      lambda t, c: f"{med(t, c[0], c[1]):.1f}")
table("Ratio to nginx (higher is better; p99: lower is better)",
      lambda t, c: f"{med(t, c[0], c[1]) / med('nginx', c[0], c[1]):.2f}")
table("Ratio to direct (the backend without a proxy)",
      lambda t, c: f"{med(t, c[0], c[1]) / med('direct', c[0], c[1]):.2f}")

extras = {}
print("\nPeak RSS (MiB) and start-up\n")
for line in open(extra):
    kind, name, value = line.rstrip("\n").split("\t")
    extras[name] = value
    print(f"- {kind} {name}: {value}")

def check(label, ok):
    print(f"- [{'x' if ok else ' '}] {label}")

print("\nTargets\n")
def ratio(t, case, metric, base):
    return med(t, case, metric) / med(base, case, metric)
check(f"exact >= 1.0x nginx at 64 connections ({ratio('exact', 'small-c64', 'rps', 'nginx'):.2f})",
      ratio('exact', 'small-c64', 'rps', 'nginx') >= 1.0)
check(f"exact >= 1.2x Undertow ProxyHandler at 64 connections ({ratio('exact', 'small-c64', 'rps', 'undertow'):.2f})",
      ratio('exact', 'small-c64', 'rps', 'undertow') >= 1.2)
check(f"exact at 256 connections: no errors and >= 0.9x nginx ({ratio('exact', 'small-c256', 'rps', 'nginx'):.2f})",
      ratio('exact', 'small-c256', 'rps', 'nginx') >= 0.9 and med('exact', 'small-c256', 'errors') == 0)
check(f"exact p99 at 16 connections <= 1.2x nginx's ({ratio('exact', 'small-c16', 'p99', 'nginx'):.2f})",
      ratio('exact', 'small-c16', 'p99', 'nginx') <= 1.2)
check(f"exact 10 MiB download >= 0.9x nginx ({ratio('exact', 'download', 'MiBps', 'nginx'):.2f})",
      ratio('exact', 'download', 'MiBps', 'nginx') >= 0.9)
check(f"exact 10 MiB upload >= 0.9x nginx ({ratio('exact', 'upload', 'MiBps', 'nginx'):.2f})",
      ratio('exact', 'upload', 'MiBps', 'nginx') >= 0.9)
chain = med('chain', 'small-c64', 'rps') / med('exact', 'small-c64', 'rps')
check(f"app -> middleware (hmac-sha256) >= 0.8x exact at 64 connections ({chain:.2f})", chain >= 0.8)
# two proxy hops share the two cores however they are built: the same chain without signing
# (exact -> exact) says what signing and verifying cost on their own
signed = med('chain', 'small-c64', 'rps') / med('hops', 'small-c64', 'rps')
print(f"  - for reading it: app -> middleware is {signed:.2f}x two plain exact hops (exact -> exact) at 64 connections")
rss = max(float(extras.get(n, 'nan')) for n in ('exact', 'app', 'chain', 'spawn'))
check(f"peak RSS <= 256 MiB ({rss:.0f})", rss <= 256)
start = float(extras.get('proxykit-first-answer-ms', 'nan'))
check(f"start to first answered request <= 1 s ({start:.0f} ms)", start <= 1000)
cold = float(extras.get('spawn-cold-start-ms', 'nan')) - float(extras.get('nginx-alone-start-ms', 'nan'))
check(f"spawn cold start adds <= 50 ms to the child's own start, after an idle stop ({cold:.0f} ms)", cold <= 50)
first = float(extras.get('spawn-first-start-ms', 'nan')) - float(extras.get('nginx-alone-start-ms', 'nan'))
print(f"  - the very first spawn, with proxykit's own code not yet compiled: +{first:.0f} ms")
