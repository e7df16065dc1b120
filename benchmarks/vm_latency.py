"""Per-command latency inside the running VM, and the VM's boot split.

  harness          one command on the harness's persistent paramiko connection
                   (SshSession.exec: a new exec channel on the open connection)
  vagrant ssh -c   the same command through Vagrant's CLI (a Ruby start-up, a new
                   ssh process and a new SSH connection every time)

Prints both medians and the ratio (target: the harness at least 20 times faster). When no
VM is running, the benchmark boots one (timed, with the boot split) and destroys it after.

    .venv/bin/python benchmarks/vm_latency.py [--rounds 20] [--cli-rounds 5] [--command 'uname -r']
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

from notavm.docker_daemon import connect, new_session_id, remove_labelled
from notavm.images import ProgramStore
from notavm.targets.vm import VmTarget
from notavm.vagrant import Vagrant


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--cli-rounds", type=int, default=5)
    parser.add_argument("--command", default="uname -r")
    args = parser.parse_args()

    client = connect()
    session = new_session_id()
    vagrant = Vagrant()
    target = VmTarget(ProgramStore(client, session), timeout=120, vagrant=vagrant)
    try:
        target.prepare([])
        assert target.session is not None
        harness = [target.session.exec(args.command)[1].seconds for _ in range(args.rounds + 1)][1:]
        cli: list[float] = []
        for _ in range(args.cli_rounds):
            start = time.perf_counter()
            subprocess.run(["vagrant", "ssh", "-c", args.command], cwd=vagrant.directory,
                           capture_output=True, check=True)
            cli.append(time.perf_counter() - start)
    finally:
        target.close()
        remove_labelled(client, session)

    h, c = statistics.median(harness), statistics.median(cli)
    print(f"command {args.command!r} inside the VM, medians:")
    print(f"  harness (paramiko, open connection)  {h * 1000:8.1f} ms  (n={len(harness)}, "
          f"sd {statistics.stdev(harness) * 1000:.1f} ms)")
    print(f"  vagrant ssh -c                       {c * 1000:8.1f} ms  (n={len(cli)}, "
          f"sd {statistics.stdev(cli) * 1000:.1f} ms)")
    print(f"  the harness is {c / h:.0f} times faster (target: at least 20)")
    boot = target.info.get("boot")
    if boot:
        print("VM boot (this run booted it): " + ", ".join(f"{k} {v:.1f}" for k, v in boot.items()))
    else:
        print("VM boot: reused a running VM, no boot measured")


if __name__ == "__main__":
    main()
