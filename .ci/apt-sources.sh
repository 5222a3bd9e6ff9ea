#!/usr/bin/env bash
# Debian's newer suites as apt sources, pinned low (100) so that nothing on
# the machine upgrades from them: they only serve `apt-get download` of the
# kernel matrix's images and sources (trixie: 6.12; trixie-backports: 7.3;
# bookworm-backports: bpftool). Idempotent.
set -euo pipefail

list=/etc/apt/sources.list.d/bpfarena-kernels.sources
pin=/etc/apt/preferences.d/bpfarena-kernels
want='Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie trixie-backports bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'

changed=0
# Another file may already name these suites (a developer's machine).
if ! grep -rqs 'trixie-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	printf '%s\n' "$want" >"$list"
	changed=1
fi
if [ ! -e "$pin" ]; then
	cat >"$pin" <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100

Package: *
Pin: release n=trixie-backports
Pin-Priority: 100

Package: *
Pin: release n=bookworm-backports
Pin-Priority: 100
PIN
	changed=1
fi
if [ "$changed" = 1 ] || ! apt-cache show linux-source-7.3 >/dev/null 2>&1; then
	apt-get update -q
fi
