# Sourced by the bench scripts (from the repository's root).
#   keyform_binary PROFILE [PATH]  prints the keyform binary to measure: PATH as given, or the one
#                                  `cargo build` makes for PROFILE (debug or release)
#   measure COMMAND...             runs the command once and prints "seconds peak_kib"; it fails
#                                  (with the command's last stderr) unless the command exits 0
#   bulk_arguments "$@"            reads the bulk benchmarks' flags into profile, count, parallelism
#                                  and binary
keyform_binary() {
  if [ -n "${2:-}" ]; then
    realpath "$2"
  elif [ "$1" = release ]; then
    cargo build --release --quiet >&2
    echo "${CARGO_TARGET_DIR:-$PWD/target}/release/keyform"
  else
    cargo build --quiet >&2
    echo "${CARGO_TARGET_DIR:-$PWD/target}/debug/keyform"
  fi
}

measure() { # prints "seconds peak_kib" for one run of the command; fails unless it exits 0
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
run = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
elapsed = time.monotonic() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
if run.returncode != 0:
    sys.stderr.write(run.stderr.decode(errors="replace")[-4000:])
    sys.exit(f"{' '.join(sys.argv[1:])}: exit code {run.returncode}")
print(f"{elapsed:.3f} {peak}")
PY
}

bulk_arguments() {
  profile=release
  count=200
  parallelism=16
  binary=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --profile) profile="$2"; shift 2 ;;
      --count) count="$2"; shift 2 ;;
      --parallelism) parallelism="$2"; shift 2 ;;
      --binary) binary="$2"; shift 2 ;;
      *) echo "usage: $0 [--profile debug|release] [--count 200] [--parallelism 16] [--binary PATH (skips the build)]" >&2; exit 2 ;;
    esac
  done
}
