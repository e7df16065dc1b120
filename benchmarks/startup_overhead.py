"""How much does the harness add to a container's measured startup?

Compares, for one FROM-scratch example, in one run and interleaved round by round:
  harness   ContainerTarget.timed_start: start request -> wait returns, with the attach
            stream the harness opens for the first-output time
  bare SDK  the same created container (same image, same hardening), plain
            container.start(); container.wait(); nothing else
  SDK cycle create + start + wait + remove, all timed
  CLI       `docker run --rm` with the same hardening, the whole command timed
and prints the medians and the harness's overhead over the bare SDK loop (target < 10 %).

    .venv/bin/python benchmarks/startup_overhead.py [--rounds 30] [--example nasm]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

from notavm.docker_daemon import connect, new_session_id, remove_labelled, session_labels
from notavm.examples import load_catalogue
from notavm.images import ProgramStore, ensure_images
from notavm.targets.container import ContainerTarget, hardening


def cli_args(image: str) -> list[str]:
    h = hardening()
    return ["docker", "run", "--rm", "--network", h["network_mode"], "--cap-drop", "ALL",
            "--read-only", "--security-opt", "no-new-privileges",
            "--pids-limit", str(h["pids_limit"]), "--memory", h["mem_limit"], image]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--example", default="nasm")
    args = parser.parse_args()

    client = connect()
    example = load_catalogue()[args.example]
    ensure_images(client, [example], lambda _m: None)
    session = new_session_id()
    target = ContainerTarget(client, ProgramStore(client, session), session, timeout=60)
    labels = session_labels(session)
    times: dict[str, list[float]] = {"harness": [], "bare SDK": [], "SDK cycle": [], "CLI": []}

    def bare() -> float:
        c = client.containers.create(example.image, labels=labels, **hardening())
        start = time.perf_counter()
        c.start()
        c.wait()
        elapsed = time.perf_counter() - start
        c.remove(force=True)
        return elapsed

    def cycle() -> float:
        start = time.perf_counter()
        c = client.containers.create(example.image, labels=labels, **hardening())
        c.start()
        c.wait()
        c.remove(force=True)
        return time.perf_counter() - start

    def cli() -> float:
        start = time.perf_counter()
        subprocess.run(cli_args(example.image), capture_output=True, check=False)
        return time.perf_counter() - start

    try:
        for i in range(args.warmup + args.rounds):
            samples = {"harness": target.timed_start(example).seconds, "bare SDK": bare(),
                       "SDK cycle": cycle(), "CLI": cli()}
            if i >= args.warmup:
                for key, value in samples.items():
                    times[key].append(value)
    finally:
        target.close()
        remove_labelled(client, session)

    medians = {k: statistics.median(v) for k, v in times.items()}
    print(f"example {example.name} ({example.image}), {args.rounds} rounds after "
          f"{args.warmup} warm-up, medians:")
    for key, value in medians.items():
        ratio = value / medians["bare SDK"]
        print(f"  {key:<10} {value * 1000:8.1f} ms   x{ratio:.2f} of bare SDK   "
              f"(sd {statistics.stdev(times[key]) * 1000:.1f} ms)")
    overhead = (medians["harness"] - medians["bare SDK"]) / medians["bare SDK"] * 100
    print(f"harness overhead over the bare SDK loop: {overhead:+.1f} % (target < 10 %)")
    print(f"docker run --rm takes x{medians['CLI'] / medians['harness']:.2f} the harness's time")


if __name__ == "__main__":
    main()
