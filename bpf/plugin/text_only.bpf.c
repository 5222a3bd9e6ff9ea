// SPDX-License-Identifier: Apache-2.0
/*
 * Code in .text and no entry program, as the bpf_conformance suite builds
 * its ELF tests: `bpfarena conformance-plugin --elf` runs the first
 * function of .text, which returns 42.
 */
__attribute__((noinline)) int answer(void)
{
	return 42;
}
