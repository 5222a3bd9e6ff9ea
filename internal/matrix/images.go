// Package matrix boots Debian's kernels under qemu and runs a program
// inside them as root: the kernel engine's test bench. A job is a static
// binary, its arguments and the files it reads; the guest is an
// initramfs whose init is the calling binary itself, so nothing but qemu
// and the kernel image is needed on the host.
//
// Kernel images come from Debian's packages (apt-get download and
// dpkg-deb -x, no install) and are kept in a cache directory.
package matrix

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Image describes one kernel of the matrix: where Debian keeps it.
type Image struct {
	// Name is the major.minor version users type, such as "6.12".
	Name string
	// Suite is the Debian suite that carries it, for error messages.
	Suite string
	// Packages are regular expressions for the Debian package names to
	// download; the newest version of each wins.
	Packages []string
}

// Images are the kernels the matrix knows, oldest first. 6.1 has no
// arenas and checks the engines' clean refusal; the others are the
// kernels people deploy. Debian no longer serves 6.18.
var Images = []Image{
	{Name: "6.1", Suite: "bookworm", Packages: []string{`^linux-image-6\.1\.0-[0-9]+-amd64$`}},
	{Name: "6.12", Suite: "trixie", Packages: []string{`^linux-image-6\.12\.[0-9]+\+deb13-amd64-unsigned$`}},
	{Name: "7.3", Suite: "trixie-backports", Packages: []string{
		`^linux-binary-7\.3\.[0-9]+\+deb13-amd64$`, `^linux-base-7\.3\.[0-9]+\+deb13-amd64$`,
	}},
}

// ErrUnknownKernel is returned for a kernel name that is not in Images.
var ErrUnknownKernel = errors.New("unknown matrix kernel")

// ErrNoImage is returned when a kernel image cannot be had here.
var ErrNoImage = errors.New("kernel image not available")

// Lookup returns the image named name.
func Lookup(name string) (Image, error) {
	var names []string
	for _, im := range Images {
		if im.Name == name {
			return im, nil
		}
		names = append(names, im.Name)
	}
	return Image{}, fmt.Errorf("%w %q (known: %s)", ErrUnknownKernel, name, strings.Join(names, ", "))
}

// Kernel is a fetched image: its files on disk.
type Kernel struct {
	Image
	// Release is the kernel's full release string, such as 6.12.117+deb13-amd64.
	Release string
	// Vmlinuz is the bootable image; Config its kernel configuration.
	Vmlinuz, Config string
	// BTF is where the kernel's own BTF (its /sys/kernel/btf/vmlinux)
	// is kept once ExtractBTF has run; the file may not exist yet.
	BTF string
}

// Cached returns the kernel named name if its image is in the cache
// already; it downloads nothing.
func Cached(name string) (*Kernel, error) {
	im, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	cache, err := CacheDir()
	if err != nil {
		return nil, err
	}
	return locate(im, filepath.Join(cache, im.Name))
}

// ExtractBTF boots k once to copy its BTF into the cache (k.BTF), for
// CO-RE relocation and kfunc checks against that kernel without running
// it. The image's own files do not carry it separately.
func ExtractBTF(ctx context.Context, k *Kernel) error {
	if _, err := os.Stat(k.BTF); err == nil {
		return nil
	}
	tmp := k.BTF + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("kernel %s: %w", k.Name, err)
	}
	code, err := Run(ctx, k, Spec{Binary: catJob, Args: []string{"/sys/kernel/btf/vmlinux"}, Stdout: f})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && code != 0 {
		err = fmt.Errorf("%w: copying the BTF exited with %d", ErrGuest, code)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("kernel %s: BTF: %w", k.Name, err)
	}
	return os.Rename(tmp, k.BTF)
}

// CacheDir is where images are kept: $BPFARENA_KERNEL_CACHE, or
// bpfarena/kernels in the user's cache directory.
func CacheDir() (string, error) {
	if d := os.Getenv("BPFARENA_KERNEL_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("kernel cache: %w", err)
	}
	return filepath.Join(d, "bpfarena", "kernels"), nil
}

// Fetch returns the kernel named name, downloading its packages into the
// cache the first time.
func Fetch(name string) (*Kernel, error) {
	im, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	cache, err := CacheDir()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cache, im.Name)
	if k, err := locate(im, dir); err == nil {
		return k, nil
	}
	if err := download(im, dir); err != nil {
		return nil, err
	}
	return locate(im, dir)
}

// download fetches and unpacks the image's packages into dir.
func download(im Image, dir string) error {
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("kernel %s: %w: fetching Debian's kernel packages needs apt-get and dpkg-deb", im.Name, ErrNoImage)
	}
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return fmt.Errorf("kernel %s: %w", im.Name, err)
	}
	defer os.RemoveAll(tmp)
	var pkgs []string
	for _, pat := range im.Packages {
		p, err := newestPackage(pat)
		if err != nil {
			return fmt.Errorf("kernel %s: %w (Debian %s must be among apt's sources)", im.Name, err, im.Suite)
		}
		pkgs = append(pkgs, p)
	}
	cmd := exec.Command("apt-get", append([]string{"download", "-q"}, pkgs...)...)
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kernel %s: %w: apt-get download %s: %v\n%s", im.Name, ErrNoImage, strings.Join(pkgs, " "), err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	root := filepath.Join(tmp, "root")
	for _, deb := range debs {
		if out, err := exec.Command("dpkg-deb", "-x", deb, root).CombinedOutput(); err != nil {
			return fmt.Errorf("kernel %s: %w: dpkg-deb -x %s: %v\n%s", im.Name, ErrNoImage, filepath.Base(deb), err, out)
		}
	}
	os.RemoveAll(dir)
	if err := os.Rename(root, dir); err != nil {
		return fmt.Errorf("kernel %s: %w", im.Name, err)
	}
	return nil
}

// newestPackage asks apt for the packages matching pat and returns the one
// with the highest version in its name.
func newestPackage(pat string) (string, error) {
	out, err := exec.Command("apt-cache", "search", "--names-only", pat).Output()
	if err != nil {
		return "", fmt.Errorf("%w: apt-cache search %s: %v", ErrNoImage, pat, err)
	}
	re := regexp.MustCompile(pat)
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(line, " ")
		if name != "" && re.MatchString(name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "", fmt.Errorf("%w: no package matches %s", ErrNoImage, pat)
	}
	sort.Slice(names, func(i, j int) bool { return versionLess(names[i], names[j]) })
	return names[len(names)-1], nil
}

// versionLess orders package names by the numbers in them.
func versionLess(a, b string) bool {
	na, nb := numbers(a), numbers(b)
	for i := 0; i < len(na) && i < len(nb); i++ {
		if na[i] != nb[i] {
			return na[i] < nb[i]
		}
	}
	if len(na) != len(nb) {
		return len(na) < len(nb)
	}
	return a < b
}

func numbers(s string) []int {
	var out []int
	n, in := 0, false
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			n = n*10 + int(s[i]-'0')
			in = true
			continue
		}
		if in {
			out = append(out, n)
		}
		n, in = 0, false
	}
	return out
}

// locate finds the image's files in an unpacked tree: Debian puts them in
// /boot (up to 6.12) or /usr/lib/modules/RELEASE (7.x).
func locate(im Image, dir string) (*Kernel, error) {
	k := &Kernel{Image: im}
	if m, _ := filepath.Glob(filepath.Join(dir, "boot", "vmlinuz-*")); len(m) == 1 {
		k.Vmlinuz = m[0]
		k.Release = strings.TrimPrefix(filepath.Base(m[0]), "vmlinuz-")
		k.Config = filepath.Join(dir, "boot", "config-"+k.Release)
	} else if m, _ := filepath.Glob(filepath.Join(dir, "usr", "lib", "modules", "*", "vmlinuz")); len(m) == 1 {
		k.Vmlinuz = m[0]
		k.Release = filepath.Base(filepath.Dir(m[0]))
		k.Config = filepath.Join(filepath.Dir(m[0]), "config")
	} else {
		return nil, fmt.Errorf("kernel %s: %w: no vmlinuz under %s", im.Name, ErrNoImage, dir)
	}
	k.BTF = filepath.Join(dir, "vmlinux.btf")
	if _, err := os.Stat(k.Config); err != nil {
		return nil, fmt.Errorf("kernel %s: %w: no kernel config beside %s", im.Name, ErrNoImage, k.Vmlinuz)
	}
	if !strings.HasPrefix(k.Release, im.Name+".") && !strings.HasPrefix(k.Release, im.Name+"-") {
		return nil, fmt.Errorf("kernel %s: %w: unpacked release %s does not match", im.Name, ErrNoImage, k.Release)
	}
	return k, nil
}
