"""The orchestrator of scripts/bench.sh (run by it, in its venv): runs every measurement, writes
target/bench/results.json and prints the table. Exits 1 only when a run broke (a crash, a failed
call, a missing reply), never because a figure misses its target.

    python benches/run.py --credplane BIN --bench-bin BIN --moto-server BIN [--quick]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time

import boto3

OUT_DIR = os.path.join("target", "bench")
# The keys, in table order, with their targets (op, value; None: reported only).
KEYS = [
    ("cold_start_ms", ("<=", 5)),
    ("idle_rss_mb", ("<=", 15)),
    ("check_vs_bare", (">=", 0.90)),
    ("diff_vs_bare", (">=", 0.95)),
    ("moto_create_ratio", (">=", 1.0)),
    ("sdk_up_1000_s", ("<=", 2)),
    ("sdk_linearity", ("<=", 1.5)),
    ("sdk_preview_4000_s", ("<=", 2)),
    ("latency50_up_1000_s", ("<=", 6)),
    ("engine_rss_10000_mb", None),
    ("chaos_orphans", ("<=", 0)),
    ("chaos_foreign_deletions", ("<=", 0)),
    ("fuzz_inputs", (">=", 1_000_000)),
    ("fuzz_panics", ("<=", 0)),
]

# Figures that are themselves a ratio to their baseline, and the ratio key of the others that have one.
RATIO_FIGURES = {"check_vs_bare", "diff_vs_bare", "moto_create_ratio", "sdk_linearity"}
RATIO_KEYS = {"cold_start_ms": "cold_start_ratio", "idle_rss_mb": "idle_rss_ratio"}


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.quick = args.quick
        self.results: dict[str, object] = {k: None for k, _ in KEYS}
        self.results["quick"] = self.quick
        self.notes: dict[str, str] = {}  # key -> shown in the table beside the value
        self.baselines: dict[str, str] = {}  # key -> the baseline, as shown
        self.broken: list[str] = []

    def log(self, text: str) -> None:
        print(f"bench: {text}", file=sys.stderr, flush=True)

    def step(self, name: str, fn) -> None:
        started = time.monotonic()
        self.log(f"{name} ...")
        try:
            fn()
        except Exception as exc:  # one broken run must not hide the others' figures
            self.broken.append(f"{name}: {exc}")
            self.log(f"{name} BROKE: {exc}")
        self.log(f"{name} done in {time.monotonic() - started:.1f} s")

    def rust(self, *argv: str, timeout: float = 600) -> dict:
        """Runs a credplane-bench subcommand and returns its JSON."""
        out = subprocess.run([self.args.bench_bin, *argv, "--credplane", self.args.credplane], capture_output=True,
                             text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"credplane-bench {argv[0]} failed: {out.stderr.strip()[-400:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    # --- the Rust-side figures ------------------------------------------------------------

    def cold_start(self) -> None:
        r = self.rust("cold-start", "--runs", "15" if self.quick else "50")
        self.results.update(r)
        self.baselines["cold_start_ms"] = f"{r['cold_start_floor_ms']:.2f} (tokio echo process)"
        self.results["cold_start_ratio"] = r["cold_start_ms"] / r["cold_start_floor_ms"]

    def idle_rss(self) -> None:
        r = self.rust("idle-rss")
        self.results.update(r)
        self.baselines["idle_rss_mb"] = f"{r['bare_idle_rss_mb']:.1f} (bare jsonrpsee)"
        self.results["idle_rss_ratio"] = r["idle_rss_mb"] / r["bare_idle_rss_mb"]

    def http(self) -> None:
        # Five short rounds even in --quick: with three, one noisy second moved a median by ±0.05.
        rounds, seconds = ("5", "1") if self.quick else ("7", "3")
        r = self.rust("http", "--rounds", rounds, "--seconds", seconds)
        self.results.update(r)
        for method in ("check", "diff"):
            self.baselines[f"{method}_vs_bare"] = (f"{r[f'{method}_bare_rps']:.0f} req/s, "
                                                   f"{r[f'{method}_bare_server_cpu_us']:.1f} us CPU/req (bare jsonrpsee)")
            self.notes[f"{method}_vs_bare"] = f"{r[f'{method}_rps']:.0f} req/s, {r[f'{method}_server_cpu_us']:.1f} us CPU/req"

    def moto(self) -> None:
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([self.args.moto_server, "-p", str(port)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port, 30)
            iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                               aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                               aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
            for user in ("bench-credplane", "bench-boto3"):
                iam.create_user(UserName=user)
            rounds, pairs = (3, 20) if self.quick else (5, 100)

            def boto3_pairs() -> float:
                started = time.perf_counter()
                for _ in range(pairs):
                    key = iam.create_access_key(UserName="bench-boto3")["AccessKey"]
                    iam.delete_access_key(UserName="bench-boto3", AccessKeyId=key["AccessKeyId"])
                return pairs / (time.perf_counter() - started)

            boto3_pairs()  # warm-up, as the Rust side does one untimed pair
            ours, theirs = [], []
            for _ in range(rounds):  # A B A B
                r = self.rust("moto", "--endpoint", endpoint + "/", "--user", "bench-credplane", "--pairs",
                              str(pairs))
                ours.append(r["credplane_keys_per_s"])
                theirs.append(boto3_pairs())
            left = iam.list_access_keys(UserName="bench-credplane")["AccessKeyMetadata"]
            if left:
                raise RuntimeError(f"credplane left {len(left)} access keys behind")
        finally:
            server.kill()
            server.wait()
        ours_m, theirs_m = median(ours), median(theirs)
        self.results.update({"moto_credplane_keys_per_s": ours_m, "moto_boto3_keys_per_s": theirs_m,
                             "moto_create_ratio": ours_m / theirs_m})
        self.baselines["moto_create_ratio"] = f"{theirs_m:.1f} keys/s (boto3)"
        self.notes["moto_create_ratio"] = f"{ours_m:.1f} keys/s, each created and deleted"

    # --- the Python SDK figures -------------------------------------------------------------

    def sdk(self, op: str, n: int, deadline: float, settings: str | None = None) -> dict:
        argv = [sys.executable, os.path.join("benches", "sdk_bench.py"), op, str(n), "--deadline", str(deadline)]
        if settings:
            argv += ["--settings", settings]
        env = dict(os.environ, CREDPLANE_BIN=self.args.credplane,
                   CREDPLANE_PASSPHRASE=os.environ.get("CREDPLANE_PASSPHRASE", "credplane-bench-passphrase"))
        out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=deadline * 2 + 120)
        lines = out.stdout.strip().splitlines()
        if out.returncode != 0 or not lines:
            raise RuntimeError(f"sdk {op} {n}: {(lines or [''])[-1]} {out.stderr.strip()[-300:]}")
        r = json.loads(lines[-1])
        self.log(f"sdk {op} {n}: {r}")
        return r

    def sdk_figures(self) -> None:
        small, mid, big, preview_n = (20, 100, 100, 200) if self.quick else (100, 1000, 10_000, 4000)
        deadline = 60.0 if self.quick else 240.0
        r_small = self.sdk("up", small, deadline)
        r_mid = self.sdk("up", mid, deadline)
        r_big = r_mid if big == mid else self.sdk("up", big, deadline)
        self.results["sdk_up_1000_s"] = r_mid["seconds"]
        self.results["sdk_up_n"] = mid
        self.notes["sdk_up_1000_s"] = timed(r_mid, mid)
        per_small, per_big = r_small["seconds"] / small, r_big["seconds"] / big
        self.results["sdk_linearity"] = per_big / per_small
        self.results["sdk_linearity_n"] = [small, big]
        self.baselines["sdk_linearity"] = f"{per_small * 1e3:.2f} ms/resource at N={small}"
        self.notes["sdk_linearity"] = f"{per_big * 1e3:.2f} ms/resource at N={big}" + (
            " (time-out: a lower bound)" if r_big["timed_out"] else "")
        self.results["engine_rss_10000_mb"] = r_big["peak_rss_mb"]
        self.results["engine_rss_n"] = big
        self.notes["engine_rss_10000_mb"] = f"N={big}" + (" (at the time-out)" if r_big["timed_out"] else "")
        r_prev = self.sdk("preview", preview_n, deadline)
        self.results["sdk_preview_4000_s"] = r_prev["seconds"]
        self.results["sdk_preview_n"] = preview_n
        self.notes["sdk_preview_4000_s"] = timed(r_prev, preview_n)

    def latency(self) -> None:
        n = 50 if self.quick else 1000
        deadline = 60.0 if self.quick else 240.0
        port = free_port()
        sandbox = subprocess.Popen([self.args.credplane, "sandbox", "--listen", f"127.0.0.1:{port}", "--latency-ms",
                                    "50"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            settings = None
            for line in sandbox.stderr:
                if line.startswith("provider settings: "):
                    settings = line.split(": ", 1)[1].strip()
                    break
            if settings is None:
                raise RuntimeError("the sandbox printed no provider settings")
            r = self.sdk("up", n, deadline, settings=settings)
        finally:
            sandbox.kill()
            sandbox.wait()
        self.results["latency50_up_1000_s"] = r["seconds"]
        self.results["latency50_n"] = n
        self.notes["latency50_up_1000_s"] = timed(r, n)
        self.baselines["latency50_up_1000_s"] = "50 ms per cloud call"

    # --- the other helpers' harnesses -----------------------------------------------------

    def harness(self, script: str, flag: str, n: int, keys: list[str]) -> None:
        path = os.path.join("scripts", script)
        if not os.path.exists(path):
            for key in keys:
                self.notes[key] = path
            return
        out = subprocess.run(["bash", path, flag, str(n)], capture_output=True, text=True,
                             timeout=300 if self.quick else 3600)
        found = None
        for line in reversed(out.stdout.strip().splitlines()):
            try:
                found = json.loads(line)
                break
            except ValueError:
                continue
        if not isinstance(found, dict) or any(k not in found for k in keys):
            raise RuntimeError(f"{script} printed no result line (rc={out.returncode}): {out.stderr.strip()[-300:]}")
        for key, value in found.items():
            self.results[key] = value

    # --- the report -------------------------------------------------------------------------

    def report(self) -> None:
        os.makedirs(OUT_DIR, exist_ok=True)
        self.results["broken"] = self.broken
        with open(os.path.join(OUT_DIR, "results.json"), "w") as f:
            json.dump(self.results, f, indent=2)
            f.write("\n")
        rows = [("figure", "value", "baseline", "ratio", "target", "met")]
        for key, target in KEYS:
            value = self.results.get(key)
            shown = "missing" if value is None else fmt(value)
            if key in self.notes:
                shown += f" ({self.notes[key]})"
            ratio = value if key in RATIO_FIGURES else self.results.get(RATIO_KEYS.get(key, ""))
            met = "-" if value is None else ("reported" if target is None else
                                              ("yes" if compare(value, target) else "NO"))
            rows.append((key, shown, self.baselines.get(key, "-"), "-" if not isinstance(ratio, (int, float)) else
                         f"{ratio:.2f}", "-" if target is None else f"{target[0]} {fmt(target[1])}", met))
        widths = [max(len(r[i]) for r in rows) for i in range(6)]
        lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
        lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
        print(f"credplane bench ({'quick' if self.quick else 'full'} run, {time.strftime('%Y-%m-%d')})")
        print("\n".join(lines))
        if self.broken:
            print("\nbroken runs:\n  " + "\n  ".join(self.broken))
        with open(os.path.join(OUT_DIR, "table.md"), "w") as f:
            f.write("\n".join(lines) + "\n")


def timed(r: dict, n: int) -> str:
    return f"N={n}" + (", time-out" if r["timed_out"] else "")


def compare(value: float, target: tuple) -> bool:
    return value <= target[1] if target[0] == "<=" else value >= target[1]


def fmt(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.3f}"


def median(values: list[float]) -> float:
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {seconds} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--credplane", required=True)
    parser.add_argument("--bench-bin", required=True)
    parser.add_argument("--moto-server", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", help="comma-separated step names (for development)")
    args = parser.parse_args()
    bench = Bench(args)
    steps = {
        "cold-start": bench.cold_start,
        "idle-rss": bench.idle_rss,
        "http": bench.http,
        "moto": bench.moto,
        "sdk": bench.sdk_figures,
        "latency": bench.latency,
        "chaos": lambda: bench.harness("chaos.sh", "--creates", 100 if bench.quick else 1000,
                                       ["chaos_orphans", "chaos_foreign_deletions"]),
        "fuzz": lambda: bench.harness("fuzz.sh", "--inputs", 20_000 if bench.quick else 1_000_000,
                                      ["fuzz_inputs", "fuzz_panics"]),
    }
    only = set(args.only.split(",")) if args.only else set(steps)
    for name, fn in steps.items():
        if name in only:
            bench.step(name, fn)
    bench.report()
    sys.exit(1 if bench.broken else 0)


if __name__ == "__main__":
    main()
