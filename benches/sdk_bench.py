"""One Python SDK scenario of scripts/bench.sh, through the automation API (Client.stdio, Stack).

    python benches/sdk_bench.py up N [--settings JSON] [--deadline S]
    python benches/sdk_bench.py preview N [--deadline S]

`up N` times `up` of N KMS secrets on a fresh state; `preview N` first runs `up` (untimed), then
times a no-change `preview`. With --settings the provider is `credplane serve --stdio` configured
with those settings (an external sandbox, e.g. one with --latency-ms 50); without it, the
in-process sandbox. Prints one JSON line: {"seconds", "timed_out", "peak_rss_mb", "n"}. When the
deadline passes, the deadline is reported as the time and the provider processes are killed.
CREDPLANE_BIN names the provider binary and CREDPLANE_PASSPHRASE encrypts the state.
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time

from credplane.resources import AlicloudKmsSecret, AlicloudKmsSecretArgs
from credplane.runtime import Client, Stack


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (the provider, and anything it spawned)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def peak_rss_mb(pids: list[int]) -> float:
    """The sum of the processes' peak resident sizes (VmHWM), in MiB."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def program(n: int):
    def declare() -> None:
        for i in range(n):
            AlicloudKmsSecret(
                f"secret-{i}",
                AlicloudKmsSecretArgs(secret_name=f"bench/{i}", version_id="v1", secret_data=f"value-{i}"),
            )

    return declare


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("op", choices=["up", "preview"])
    parser.add_argument("n", type=int)
    parser.add_argument("--settings", help="provider settings (JSON) of an external sandbox")
    parser.add_argument("--deadline", type=float, default=600.0)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="credplane-bench-")
    if args.settings:
        client = Client([os.environ["CREDPLANE_BIN"], "serve", "--stdio"])
        client.configure(**json.loads(args.settings))
    else:
        client = Client.stdio(sandbox=True)
    stack = Stack("bench", program(args.n), state_path=os.path.join(workdir, "state.json"), client=client, out=None)

    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            if args.op == "preview":
                stack.up()
            started = time.perf_counter()
            stack.up() if args.op == "up" else stack.preview()
            outcome["seconds"] = time.perf_counter() - started
        except BaseException as exc:  # reported below; the bench counts it as a broken run
            outcome["error"] = f"{type(exc).__name__}: {exc}"

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(args.deadline)
    pids = descendants(os.getpid())
    rss = peak_rss_mb(pids)
    timed_out = worker.is_alive()
    if "error" in outcome:
        print(json.dumps({"error": outcome["error"]}))
        sys.exit(1)
    result = {
        "n": args.n,
        "seconds": args.deadline if timed_out else outcome["seconds"],
        "timed_out": timed_out,
        "peak_rss_mb": rss,
    }
    print(json.dumps(result), flush=True)
    if timed_out:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        os._exit(0)
    client.close()


if __name__ == "__main__":
    main()
