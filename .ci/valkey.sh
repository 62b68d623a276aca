#!/usr/bin/env bash
# Builds valkey-server and valkey-cli from Debian trixie's source package (Valkey 8.1.1 when
# written; 8.1 is the first release with `SET .. IFEQ`) into target/valkey/bin/, where the
# integration tests look for them after $VALKEY_SERVER and PATH (tests/src/kind.rs). Does
# nothing when that build is already there. Needs root (it adds a deb-src entry), apt-get,
# make and a C compiler; the build takes about 2 minutes on 2 idle cores.
#
# Without TLS (BUILD_TLS=no): the TLS suites run on Redis alone. With libc malloc
# (MALLOC=libc): Debian's upstream tarball leaves jemalloc out.
set -euo pipefail
cd "$(dirname "$0")/.."

dest="${CARGO_TARGET_DIR:-target}/valkey"
if [ -x "$dest/bin/valkey-server" ] && [ -x "$dest/bin/valkey-cli" ]; then
  echo "valkey: $("$dest/bin/valkey-server" --version) in $dest/bin"
  exit 0
fi

sources=/etc/apt/sources.list.d/trixie-src.sources
if ! apt-cache showsrc valkey 2>/dev/null | grep -q '^Version: 8\.[1-9]'; then
  cat >"$sources" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  apt-get update -qq
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt checks the tarball against trixie's signed Sources index. Only the upstream tarball
# is needed, and the pool may lack the Debian packaging files of the newest revision, so
# the download is judged by the tarball alone.
(cd "$work" && apt-get source --download-only -qq valkey >"$work/source.log" 2>&1) || true
tarball=$(find "$work" -maxdepth 1 -name 'valkey_*.orig.tar.*' | head -n 1)
if [ -z "$tarball" ]; then
  echo "valkey: \`apt-get source --download-only valkey\` fetched no upstream tarball" \
    "(trixie's deb-src entry: $sources):" >&2
  cat "$work/source.log" >&2
  exit 1
fi
tar -xf "$tarball" -C "$work"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'valkey-*' | head -n 1)
started=$(date +%s)
make -C "$src/src" -j"$(nproc)" BUILD_TLS=no MALLOC=libc valkey-server valkey-cli \
  >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; exit 1; }
mkdir -p "$dest/bin"
install -m 755 "$src/src/valkey-server" "$src/src/valkey-cli" "$dest/bin/"
echo "valkey: built $(basename "$src") in $(($(date +%s) - started)) s into $dest/bin"
"$dest/bin/valkey-server" --version
