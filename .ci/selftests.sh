#!/usr/bin/env bash
# Build the kernel's own arena selftest objects from Debian's kernel sources,
# the way tools/testing/selftests/bpf/Makefile builds them, for each kernel
# version the project is checked against. Nothing of the kernel's source is
# kept in the repository: the packages are fetched (apt-get download) and
# unpacked into a cache directory.
#
#   .ci/selftests.sh [DIR]      DIR defaults to $BPFARENA_SELFTESTS or
#                               ~/.cache/bpfarena/selftests
#
# Result: DIR/<version>/obj/<name>.bpf.o for the eight arena objects, and
# DIR/<version>/config (the kernel's configuration, for CONFIG_NR_CPUS).
# With COPY_TO set, the obj directories are also copied to
# COPY_TO/<version>/obj (CI copies them into the clone's ignored
# .selftests/, which the kernel matrix ships into its guests).
set -euo pipefail

dir="${1:-${BPFARENA_SELFTESTS:-$HOME/.cache/bpfarena/selftests}}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
CLANG="${CLANG:-clang-19}"

objects=(verifier_arena verifier_arena_large arena_list arena_htab arena_htab_asm
	arena_atomics arena_strsearch arena_spin_lock)

# version, source package, kernel image package, package with the kernel's
# configuration (apt specs)
kernels=(
	"7.3 linux-source-7.3/trixie-backports linux-binary-7.3.4+deb13-amd64/trixie-backports linux-base-7.3.4+deb13-amd64/trixie-backports"
	"6.12 linux-source-6.12/trixie linux-image-6.12.117+deb13-amd64-unsigned/trixie linux-image-6.12.117+deb13-amd64-unsigned/trixie"
)

# fetch SPEC: the .deb of an apt package spec in $dir/debs, downloaded once.
fetch() {
	local spec="$1" name="${1%%/*}"
	mkdir -p "$dir/debs"
	local deb
	deb="$(ls "$dir/debs/${name}"_*.deb 2>/dev/null | head -n 1 || true)"
	if [ -z "$deb" ]; then
		(cd "$dir/debs" && apt-get download -q "$spec" >&2)
		deb="$(ls "$dir/debs/${name}"_*.deb | head -n 1)"
	fi
	echo "$deb"
}

# bpftool for vmlinux.h: bookworm-backports' build runs on this system.
bpftool_dir="$dir/bpftool"
if [ ! -x "$bpftool_dir/usr/sbin/bpftool" ]; then
	deb="$(fetch bpftool/bookworm-backports)"
	rm -rf "$bpftool_dir"
	dpkg-deb -x "$deb" "$bpftool_dir"
fi
BPFTOOL="$bpftool_dir/usr/sbin/bpftool"
"$BPFTOOL" version | head -n 1

for k in "${kernels[@]}"; do
	read -r ver src_spec img_spec config_spec <<<"$k"
	out="$dir/$ver"
	stamp="$out/obj/.built"
	if [ -e "$stamp" ] && [ "$(cat "$stamp")" = "$("$CLANG" --version | head -n 1)" ]; then
		echo "selftests $ver: cached in $out/obj"
		continue
	fi
	echo "selftests $ver: building in $out"
	rm -rf "$out"
	mkdir -p "$out/obj"

	# Sources: only the parts the BPF objects and the generators need.
	src_deb="$(fetch "$src_spec")"
	mkdir -p "$out/pkg"
	dpkg-deb -x "$src_deb" "$out/pkg"
	tarball="$(ls "$out"/pkg/usr/src/linux-source-*.tar.xz | head -n 1)"
	top="$(basename "$tarball" .tar.xz)"
	tar -C "$out" -xJf "$tarball" \
		"$top/tools/include" "$top/tools/lib/bpf" "$top/tools/testing/selftests/bpf" \
		"$top/include/uapi/linux/bpf.h" "$top/scripts/bpf_doc.py" "$top/scripts/extract-vmlinux"
	rm -rf "$out/pkg"
	tree="$out/$top"

	# The kernel: its BTF for vmlinux.h, its configuration.
	mkdir -p "$out/img"
	dpkg-deb -x "$(fetch "$img_spec")" "$out/img"
	[ "$config_spec" = "$img_spec" ] || dpkg-deb -x "$(fetch "$config_spec")" "$out/img"
	vmlinuz="$(find "$out/img" -name 'vmlinuz*' -type f | head -n 1)"
	config="$(find "$out/img" \( -name 'config-*' -o -name config \) -type f | head -n 1)"
	cp "$config" "$out/config"
	sh "$tree/scripts/extract-vmlinux" "$vmlinuz" >"$out/vmlinux"
	rm -rf "$out/img"

	inc="$out/include"
	mkdir -p "$inc/bpf"
	"$BPFTOOL" btf dump file "$out/vmlinux" format c >"$inc/vmlinux.h.full"
	rm -f "$out/vmlinux"
	# The arena kfuncs are declared again, with __arena types, by
	# bpf_arena_common.h; the vmlinux.h declarations conflict with those.
	grep -vE '^extern .*[ *](bpf_arena_alloc_pages|bpf_arena_free_pages|bpf_arena_reserve_pages)\(' \
		"$inc/vmlinux.h.full" >"$inc/vmlinux.h"
	rm -f "$inc/vmlinux.h.full"
	# libbpf's headers as "make install_headers" lays them out, with the
	# generated helper definitions.
	cp "$tree"/tools/lib/bpf/{bpf_helpers.h,bpf_tracing.h,bpf_endian.h,bpf_core_read.h,usdt.bpf.h} "$inc/bpf/" 2>/dev/null || true
	python3 "$tree/scripts/bpf_doc.py" --header --file "$tree/include/uapi/linux/bpf.h" >"$inc/bpf/bpf_helper_defs.h"

	sel="$tree/tools/testing/selftests/bpf"
	sys_inc=()
	for d in /usr/include/"$(uname -m)"-linux-gnu; do
		[ -e "$d/asm/types.h" ] && sys_inc=(-idirafter "$d")
	done
	# The flags of the tree's own BPF_CFLAGS: later trees add an include
	# directory and the options for the kernel's -fms-extensions BTF.
	extra=()
	[ -d "$sel/libarena/include" ] && extra+=(-I"$sel/libarena/include")
	for f in -Wno-microsoft-anon-tag -fms-extensions -Wno-initializer-overrides; do
		grep -q -- "$f" "$sel/Makefile" && extra+=("$f")
	done
	cflags=(-g -Wall -Werror -D__TARGET_ARCH_x86 -mlittle-endian -DENABLE_ATOMICS_TESTS
		-I"$inc" -I"$sel" -I"$tree/tools/include/uapi" -I"$tree/tools/include" "${extra[@]}"
		-std=gnu11 -fno-strict-aliasing -Wno-compare-distinct-pointer-types
		"${sys_inc[@]}" -O2 --target=bpfel -mcpu=v3)
	echo "selftests $ver: clang ${cflags[*]}" | sed "s|$dir|\$DIR|g"
	built=0
	for o in "${objects[@]}"; do
		if [ ! -e "$sel/progs/$o.c" ]; then
			# arena_strsearch and arena_spin_lock came after 6.12.
			echo "selftests $ver: the tree has no $o"
			continue
		fi
		"$CLANG" "${cflags[@]}" -c "$sel/progs/$o.c" -o "$out/obj/$o.bpf.o"
		built=$((built + 1))
	done
	"$CLANG" --version | head -n 1 >"$stamp"
	echo "selftests $ver: built $built objects"
done

if [ -n "${COPY_TO:-}" ]; then
	for k in "${kernels[@]}"; do
		ver="${k%% *}"
		rm -rf "${COPY_TO:?}/$ver"
		mkdir -p "$COPY_TO/$ver"
		cp -r "$dir/$ver/obj" "$COPY_TO/$ver/obj"
	done
	echo "selftests: objects copied to $COPY_TO"
fi
