#!/usr/bin/env bash
# Runs the README's two commands (scripts/demo.sh, then scripts/test.sh) inside a clean Debian 12
# root, as on a new machine: a missing install step fails here, not on a user's machine.
#
#   scripts/check-fresh.sh            both commands
#   scripts/check-fresh.sh --fast     demo.sh, then test.sh --fast (no sanitizer build)
#   scripts/check-fresh.sh --keep     leave the run's root for inspection
#
# The pristine root (debootstrap --variant=minbase bookworm) is cached in $KILN_FRESH_CACHE
# (default /var/cache/kiln-fresh) and copied for each run, so every run starts from the same
# state. The working tree (tracked and untracked, not ignored files) is copied in. Needs root,
# debootstrap and network access to the Debian archive. The run's root lives under the cache
# folder and is deleted afterwards; its mounts are private to the run (unshare) and vanish with it.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "check-fresh: needs root (debootstrap, chroot)" >&2; exit 1; }
mode=full keep=0
for arg in "$@"; do
  case "$arg" in
    --fast) mode=fast ;;
    --keep) keep=1 ;;
    *) echo "check-fresh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

cache=${KILN_FRESH_CACHE:-/var/cache/kiln-fresh}
mirror=${KILN_FRESH_MIRROR:-http://deb.debian.org/debian}
base="$cache/bookworm-minbase"
mkdir -p "$cache"

if ! command -v debootstrap > /dev/null; then
  echo "check-fresh: installing debootstrap"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
fi
if [ ! -f "$base/.complete" ]; then
  echo "== debootstrap bookworm into $base (cached for later runs)"
  rm -rf "$base"
  debootstrap --variant=minbase bookworm "$base" "$mirror"
  # A new Debian 12 machine's sources: the release, its updates and security.
  cat > "$base/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
  touch "$base/.complete"
fi

run="$cache/run-$$"
cleanup() { [ "$keep" = 1 ] && echo "check-fresh: root kept in $run" || rm -rf "$run"; }
trap cleanup EXIT
echo "== copying the pristine root and the working tree to $run"
cp -a "$base" "$run"
cp /etc/resolv.conf "$run/etc/resolv.conf"
mkdir -p "$run/root/kiln"
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$run/root/kiln"
# shared/ (beside the checkout) holds the design docs and peers; the tests do not need it.

test_cmd="bash scripts/test.sh"
[ "$mode" = fast ] && test_cmd="bash scripts/test.sh --fast"
start=$(date +%s)
# A private mount namespace: /proc, /dev and /sys exist for the run only.
unshare --mount --propagation private bash -euo pipefail -c '
  run=$1; test_cmd=$2
  mount -t proc proc "$run/proc"
  mount --rbind /dev "$run/dev"
  mount --rbind /sys "$run/sys"
  mount -t tmpfs tmpfs "$run/tmp"
  chroot "$run" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb bash -euo pipefail -c "
      cd /root/kiln
      echo \"== [fresh root] bash scripts/demo.sh\"
      bash scripts/demo.sh
      echo \"== [fresh root] $test_cmd\"
      $test_cmd
    "
' check-fresh "$run" "$test_cmd"
echo "check-fresh: both README commands passed in a clean Debian 12 root ($(( $(date +%s) - start )) s)"
