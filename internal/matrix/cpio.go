package matrix

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// archive builds an initramfs: a cpio archive in the "newc" format, the
// only one the kernel's initramfs unpacker reads. The unpacker does not
// create parent directories, so every directory is written before the
// files in it.
type archive struct {
	dirs  map[string]bool
	files map[string]archiveFile
}

type archiveFile struct {
	mode uint32 // permission bits
	open func() (io.ReadCloser, int64, error)
}

func newArchive() *archive {
	return &archive{dirs: map[string]bool{}, files: map[string]archiveFile{}}
}

// addDir records dir and its parents.
func (a *archive) addDir(dir string) {
	dir = strings.Trim(path.Clean("/"+dir), "/")
	for dir != "" && dir != "." {
		a.dirs[dir] = true
		dir = path.Dir(dir)
	}
}

// addFile records a file at name whose content open returns.
func (a *archive) addFile(name string, mode uint32, open func() (io.ReadCloser, int64, error)) {
	name = strings.Trim(path.Clean("/"+name), "/")
	a.addDir(path.Dir(name))
	a.files[name] = archiveFile{mode: mode, open: open}
}

func (a *archive) addBytes(name string, mode uint32, data []byte) {
	a.addFile(name, mode, func() (io.ReadCloser, int64, error) {
		return io.NopCloser(strings.NewReader(string(data))), int64(len(data)), nil
	})
}

const (
	cpioDir  = 0o040000
	cpioFile = 0o100000
)

// writeTo writes the archive in a stable order: directories by depth,
// then files by name, so the same inputs give the same bytes.
func (a *archive) writeTo(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	dirs := make([]string, 0, len(a.dirs))
	for d := range a.dirs {
		dirs = append(dirs, d)
	}
	sort.Slice(dirs, func(i, j int) bool {
		di, dj := strings.Count(dirs[i], "/"), strings.Count(dirs[j], "/")
		if di != dj {
			return di < dj
		}
		return dirs[i] < dirs[j]
	})
	ino := uint32(1)
	for _, d := range dirs {
		if err := writeEntry(bw, ino, d, cpioDir|0o755, 2, nil, 0); err != nil {
			return err
		}
		ino++
	}
	names := make([]string, 0, len(a.files))
	for n := range a.files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := a.files[n]
		rc, size, err := f.open()
		if errors.Is(err, fs.ErrNotExist) {
			// Gone since the tree was read (a build's temporary file).
			continue
		}
		if err != nil {
			return fmt.Errorf("initramfs: %s: %w", n, err)
		}
		err = writeEntry(bw, ino, n, cpioFile|f.mode, 1, rc, size)
		rc.Close()
		if err != nil {
			return fmt.Errorf("initramfs: %s: %w", n, err)
		}
		ino++
	}
	if err := writeEntry(bw, ino, "TRAILER!!!", 0, 1, nil, 0); err != nil {
		return err
	}
	return bw.Flush()
}

func writeEntry(w *bufio.Writer, ino uint32, name string, mode, nlink uint32, data io.Reader, size int64) error {
	if size > 0xffffffff {
		return fmt.Errorf("%s: %d bytes is too large for a cpio entry", name, size)
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, mode, 0, 0, nlink, 0, uint32(size), 0, 0, 0, 0, len(name)+1, 0)
	if _, err := w.WriteString(hdr); err != nil {
		return err
	}
	w.WriteString(name)
	w.WriteByte(0)
	pad(w, len(hdr)+len(name)+1)
	if data != nil {
		n, err := io.Copy(w, data)
		if err != nil {
			return err
		}
		if n != size {
			return fmt.Errorf("%s: read %d bytes, expected %d", name, n, size)
		}
	}
	pad(w, int(size))
	return nil
}

// pad aligns the stream to 4 bytes after n bytes of an entry part.
func pad(w *bufio.Writer, n int) {
	for ; n%4 != 0; n++ {
		w.WriteByte(0)
	}
}
