package hostroottest

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Limits on what the loaders accept, so a hostile or corrupt archive cannot
// exhaust a test's memory.
const (
	maxFileSize  = 64 << 20
	maxTotalSize = 1 << 30
)

// LoadDir copies the on-disk tree under dir into the Host, with dir as "/":
// regular files, directories, symlinks (their text, unresolved), device
// nodes, FIFOs and owners. Nothing under dir is followed or written.
func (h *Host) LoadDir(dir string) error {
	var total int64
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := path.Clean("/" + filepath.ToSlash(rel))
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch mode := fi.Mode(); {
		case mode.IsDir():
			h.Dir(name)
		case mode.IsRegular():
			if fi.Size() > maxFileSize || total+fi.Size() > maxTotalSize {
				return fmt.Errorf("hostroottest: %s: too large to load (%d bytes)", p, fi.Size())
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			total += int64(len(b))
			h.fileBytes(name, b, mode.Perm())
		case mode&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			h.Symlink(name, t)
		case mode&fs.ModeNamedPipe != 0:
			h.FIFO(name)
			if err := h.Err(); err == nil {
				h.Chmod(name, mode.Perm())
			}
		case mode&fs.ModeDevice != 0:
			st, ok := fi.Sys().(*syscall.Stat_t)
			if !ok {
				return fmt.Errorf("hostroottest: %s: no device number", p)
			}
			kind := Block
			if mode&fs.ModeCharDevice != 0 {
				kind = Char
			}
			major, minor := devNumbers(uint64(st.Rdev))
			h.Device(name, kind, major, minor, mode.Perm())
		default:
			return nil // sockets cannot be meaningfully copied
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && name != "/" {
			h.Owner(name, st.Uid, st.Gid)
		}
		return h.Err()
	})
}

func devNumbers(rdev uint64) (major, minor uint32) {
	major = uint32((rdev>>32)&0xfffff000) | uint32((rdev>>8)&0x00000fff)
	minor = uint32((rdev>>12)&0xffffff00) | uint32(rdev&0x000000ff)
	return major, minor
}

// LoadArchive loads a .tar or .tar.gz file (gzip is recognised by its
// magic number, not the file name) with LoadTar.
func (h *Host) LoadArchive(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("hostroottest: %s: %w", file, err)
		}
		defer zr.Close()
		r = zr
	}
	if err := h.LoadTar(r); err != nil {
		return fmt.Errorf("hostroottest: %s: %w", file, err)
	}
	return nil
}

// ErrUnsafeEntry is wrapped when an archive entry's name would land outside
// the root ("../x", or a name climbing out through ".."). Absolute names are
// taken as relative to the root, as tar itself does.
var ErrUnsafeEntry = errors.New("archive entry outside the root")

// ProcRootsDir is where an archive holds the root directories of its
// processes, as examples/snapshot records them (a container's /dev): LoadTar
// makes the directory ProcRootsDir/PID the root directory of process PID
// (see ProcRoot), and a symlink ProcRootsDir/PID whose text is another PID
// that process's root directory, shared.
const ProcRootsDir = "/.procroots"

// LoadTar loads a tar stream into the Host. Entry names are relative to "/";
// symlinks keep their text (a Root resolves them inside the host at read
// time, so an absolute or ".." target cannot escape either); hard links copy
// their target's content and metadata. An entry whose name would climb above
// the root fails with ErrUnsafeEntry and nothing after it is loaded.
// Entries below ProcRootsDir map process roots (see ProcRootsDir).
func (h *Host) LoadTar(r io.Reader) error {
	tr := tar.NewReader(r)
	var total int64
	contents := map[string][]byte{}
	rootDirs := map[int]bool{}
	rootLinks := map[int]int{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			for pid := range rootDirs {
				h.ProcRoot(pid, ProcRootsDir+"/"+strconv.Itoa(pid))
			}
			for pid, first := range rootLinks {
				if rootDirs[first] {
					h.ProcRoot(pid, ProcRootsDir+"/"+strconv.Itoa(first))
				}
			}
			return h.Err()
		}
		if err != nil {
			return err
		}
		name, err := entryName(hdr.Name)
		if err != nil {
			return err
		}
		mode := fs.FileMode(hdr.Mode).Perm()
		switch hdr.Typeflag {
		case tar.TypeDir:
			h.Dir(name)
			if err := h.Err(); err == nil {
				h.Chmod(name, mode)
			}
		case tar.TypeReg:
			if hdr.Size > maxFileSize || total+hdr.Size > maxTotalSize {
				return fmt.Errorf("hostroottest: entry %s: too large to load (%d bytes)", hdr.Name, hdr.Size)
			}
			b, err := io.ReadAll(io.LimitReader(tr, maxFileSize+1))
			if err != nil {
				return fmt.Errorf("hostroottest: entry %s: %w", hdr.Name, err)
			}
			total += int64(len(b))
			contents[name] = b
			h.fileBytes(name, b, mode)
		case tar.TypeSymlink:
			h.Symlink(name, hdr.Linkname)
		case tar.TypeLink:
			target, err := entryName(hdr.Linkname)
			if err != nil {
				return err
			}
			b, ok := contents[target]
			if !ok {
				return fmt.Errorf("hostroottest: entry %s: hard link to %s, which is not a regular file earlier in the archive", hdr.Name, hdr.Linkname)
			}
			h.fileBytes(name, b, mode)
		case tar.TypeChar:
			h.Device(name, Char, uint32(hdr.Devmajor), uint32(hdr.Devminor), mode)
		case tar.TypeBlock:
			h.Device(name, Block, uint32(hdr.Devmajor), uint32(hdr.Devminor), mode)
		case tar.TypeFifo:
			h.FIFO(name)
			if err := h.Err(); err == nil {
				h.Chmod(name, mode)
			}
		default:
			continue // pax headers and the like carry no file
		}
		if pid, ok := procRootPID(name); ok {
			switch hdr.Typeflag {
			case tar.TypeDir:
				rootDirs[pid] = true
			case tar.TypeSymlink:
				if first, ok := procRootPID(ProcRootsDir + "/" + hdr.Linkname); ok {
					rootLinks[pid] = first
				}
			}
		}
		if hdr.Uid != 0 || hdr.Gid != 0 {
			h.Owner(name, uint32(hdr.Uid), uint32(hdr.Gid))
		}
		if err := h.Err(); err != nil {
			return err
		}
	}
}

// procRootPID returns PID for the name ProcRootsDir/PID.
func procRootPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, ProcRootsDir+"/")
	if !ok || rest == "" || len(rest) > 9 || strings.Trim(rest, "0123456789") != "" || rest[0] == '0' {
		return 0, false
	}
	pid, err := strconv.Atoi(rest)
	return pid, err == nil
}

// entryName maps an archive name to a host-absolute name, refusing any that
// climbs above the root.
func entryName(raw string) (string, error) {
	p := strings.TrimLeft(raw, "/")
	depth := 0
	for _, c := range strings.Split(p, "/") {
		switch c {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return "", fmt.Errorf("hostroottest: entry %q: %w", raw, ErrUnsafeEntry)
			}
		default:
			depth++
		}
	}
	return path.Clean("/" + p), nil
}
