#!/usr/bin/env bash
# Compile every bpf/**/*.bpf.c into the .bpf.o next to it.
#
#   bpf/build.sh            build all objects
#   bpf/build.sh --check    build, then build again and fail if any byte differs
#
# Environment: CLANG (default clang-19), OBJDUMP (default llvm-objdump-19).
# The objects are committed; the build is reproducible (same bytes on every
# run and in every checkout path, thanks to -fdebug-prefix-map).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

CLANG="${CLANG:-clang-19}"
OBJDUMP="${OBJDUMP:-llvm-objdump-19}"

command -v "$CLANG" >/dev/null || { echo "build.sh: $CLANG not found" >&2; exit 1; }

# Debian keeps <asm/types.h> in the multiarch directory, which clang does not
# search for -target bpf.
sys_inc=()
for d in /usr/include/"$(uname -m)"-linux-gnu /usr/include/*-linux-gnu; do
	if [ -e "$d/asm/types.h" ]; then
		sys_inc=(-idirafter "$d")
		break
	fi
done

CFLAGS=(-O2 -g -target bpf -mcpu=v4 -Wall -Wno-unused-function
	-I bpf/include "${sys_inc[@]}"
	-fdebug-prefix-map="$root"=. -fmacro-prefix-map="$root"=.)

build_one() {
	local src="$1" out="${1%.c}.o"
	rm -f "$out.tmp"
	"$CLANG" "${CFLAGS[@]}" -c "$src" -o "$out.tmp" || { rm -f "$out.tmp"; return 1; }
	mv -f "$out.tmp" "$out"
}

mapfile -t srcs < <(git ls-files -co --exclude-standard -- 'bpf/*.bpf.c' 'bpf/**/*.bpf.c' 2>/dev/null | sort -u)
if [ "${#srcs[@]}" -eq 0 ]; then
	mapfile -t srcs < <(find bpf -name '*.bpf.c' | sort)
fi

fail=0
for src in "${srcs[@]}"; do
	[ -f "$src" ] || continue
	if ! build_one "$src"; then
		echo "build.sh: FAILED: $src" >&2
		fail=1
		continue
	fi
	if command -v "$OBJDUMP" >/dev/null; then
		if ! dis="$("$OBJDUMP" -d --mcpu=v4 "${src%.c}.o")"; then
			echo "build.sh: $OBJDUMP cannot disassemble ${src%.c}.o" >&2
			fail=1
		elif grep -q '<unknown>' <<<"$dis"; then
			echo "build.sh: ${src%.c}.o has instructions $OBJDUMP does not know" >&2
			fail=1
		fi
	fi
done
if [ "$fail" -ne 0 ]; then
	echo "build.sh: some objects failed to build" >&2
	exit 1
fi
echo "build.sh: built ${#srcs[@]} objects"

# The examples compile their own BPF C with these headers: regenerate
# them too, so that a header change reaches their objects.
if [ -d examples ] && command -v go >/dev/null; then
	CLANG="$CLANG" BPF_CLANG="$CLANG" go generate ./examples/... >/dev/null || { echo "build.sh: go generate ./examples/... failed" >&2; exit 1; }
	echo "build.sh: regenerated the examples"
fi

if [ "${1:-}" = "--check" ]; then
	tmp="$(mktemp -d)"
	trap 'rm -rf "$tmp"' EXIT
	for src in "${srcs[@]}"; do
		out="${src%.c}.o"
		"$CLANG" "${CFLAGS[@]}" -c "$src" -o "$tmp/again.o"
		if ! cmp -s "$out" "$tmp/again.o"; then
			echo "build.sh: $out is not reproducible" >&2
			fail=1
		fi
	done
	[ "$fail" -eq 0 ] || exit 1
	echo "build.sh: all objects reproducible"
fi
