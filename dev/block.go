package dev

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"slices"
	"strings"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/mounts"
)

// Kind is the kind of a device: block or character.
type Kind string

// Device kinds.
const (
	KindBlock Kind = "block"
	KindChar  Kind = "char"
)

// sectorSize is the unit of sysfs "size" and "start": always 512 bytes,
// whatever the device's logical block size.
const sectorSize = 512

// BlockDevice is one block device, from /sys/class/block/NAME, the udev
// database, /proc/devices and the host's mount table.
type BlockDevice struct {
	Name         string // kernel name: "sda", "sda1", "nvme0n1p2", "dm-0"
	Major, Minor uint32
	// Type is lsblk's TYPE: "part" for partitions; for device-mapper
	// devices the lower-cased DM UUID prefix ("lvm", "crypt", "mpath";
	// "dm" without one); "loop"; the md level ("raid1") or "md"; the SCSI
	// peripheral type name ("disk", "rom", "tape", ...); else "disk".
	Type             string
	Size             uint64 // bytes: sysfs "size" counts 512-byte sectors
	ReadOnly         bool   // "ro"
	Removable        bool   // "removable"; a partition inherits its disk's
	Rotational       bool   // "queue/rotational"; a partition inherits its disk's
	LogicalBlockSize uint32 // bytes, "queue/logical_block_size"; a partition inherits its disk's
	// Model, Vendor, Serial and WWN come from the udev record first
	// (ID_MODEL_ENC, ID_VENDOR_ENC, ID_SERIAL_SHORT, ID_WWN_WITH_EXTENSION
	// or ID_WWN), as lsblk does, then from sysfs (device/model,
	// device/vendor, serial or device/serial), trimmed of padding.
	Model, Vendor, Serial, WWN string
	// WWID is the kernel's own world-wide identifier, from sysfs "wwid"
	// (NVMe namespaces) or "device/wwid" (SCSI): "naa.5000c500a1b2c3d4",
	// "eui.0025388b71b2c3d4".
	WWID string
	// Partition is the partition number, 0 for a whole device; Start is
	// the partition's offset on its disk in bytes; Parent is its disk's
	// name.
	Partition int
	Start     uint64
	Parent    string
	// Partitions names a disk's partitions, in partition number order.
	Partitions []string
	// Holders are the devices built on this one (a dm or md device using
	// it); Slaves the devices this one is built on. Names, sorted.
	Holders, Slaves []string
	DMName, DMUUID  string // "dm/name", "dm/uuid" of a device-mapper device
	MDLevel         string // "md/level" of an md device ("raid1")
	// Driver is the name /proc/devices gives the major ("sd", "virtblk",
	// "device-mapper"); the first if there are several.
	Driver string
	// FSType, UUID and Label describe the file system on the device, and
	// PartUUID and PartLabel the partition table entry, from the udev
	// record (ID_FS_TYPE, ID_FS_UUID, ID_FS_LABEL_ENC, ID_PART_ENTRY_UUID,
	// ID_PART_ENTRY_NAME); empty when udev has none.
	FSType, UUID, Label, PartUUID, PartLabel string
	// Udev is the device's udev database record; nil when there is none.
	Udev *UdevRecord
	// Links are the /dev/disk/by-* links that resolve to this device, sorted.
	Links []string
	// MountPoints are the host paths the device is mounted on, in mount
	// table order: every mount with this Major:Minor (bind mounts included),
	// and for file systems that report an anonymous 0:N device (btrfs) the
	// mounts whose source is /dev/NAME.
	MountPoints []string
	// SysPath is the device's directory under /sys/devices, resolved inside
	// the Root.
	SysPath string
}

// BlockOptions tunes Blocks. A nil *BlockOptions means the defaults.
type BlockOptions struct {
	// Mounts is the mount table to take mount points from; nil reads the
	// host's (mounts.Host). Pass a table already read to save a read.
	Mounts []mounts.Mount
	// NoMounts leaves MountPoints empty and reads no mount table.
	NoMounts bool
}

// Blocks lists the block devices in /sys/class/block (or, on kernels
// without it, /sys/block and the partition directories below each disk),
// sorted by major and minor number. Every sysfs name goes through the Root,
// whose resolver keeps the symlinks of /sys inside it.
//
// Missing attributes leave their fields empty; a device that disappears
// during the scan is left out. Other problems (a malformed attribute, an
// unreadable udev record or mount table) do not stop the scan: Blocks
// returns every device it read together with an error joining each problem,
// each wrapping hostroot.ErrMalformed or the *fs.PathError of the read.
// Only a failure to list the devices at all returns no devices.
func Blocks(ctx context.Context, r *hostroot.Root, opts *BlockOptions) ([]BlockDevice, error) {
	if opts == nil {
		opts = &BlockOptions{}
	}
	entries, err := listBlock(r)
	if err != nil {
		return nil, err
	}
	s := &sysReader{r: r}
	drivers, err := ProcDevices(r)
	if err != nil {
		s.errs = append(s.errs, err)
		drivers = &Drivers{}
	}
	var devs []BlockDevice
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d, ok := s.block(e)
		if !ok {
			continue
		}
		if names := drivers.Block[d.Major]; len(names) > 0 {
			d.Driver = names[0]
		}
		devs = append(devs, d)
	}
	slices.SortFunc(devs, func(a, b BlockDevice) int {
		if a.Major != b.Major {
			return cmpUint(a.Major, b.Major)
		}
		return cmpUint(a.Minor, b.Minor)
	})
	linkParents(devs)

	links, err := DiskLinks(ctx, r)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.errs = append(s.errs, err)
	}
	for _, l := range links {
		for i := range devs {
			if l.Target != "" && l.Kind == KindBlock && devs[i].Major == l.Major && devs[i].Minor == l.Minor {
				devs[i].Links = append(devs[i].Links, l.Path)
			}
		}
	}

	if !opts.NoMounts {
		table := opts.Mounts
		if table == nil {
			ht, err := mounts.Host(ctx, r, nil)
			if err != nil {
				s.errs = append(s.errs, err)
			} else {
				table = ht.Mounts
			}
		}
		joinMounts(devs, table)
	}
	return devs, errors.Join(s.errs...)
}

func cmpUint(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// blockEntry is one device directory to read: its name and the sysfs name
// it is reached by.
type blockEntry struct {
	name, dir string
	parent    string // set by the /sys/block layout, where it is known
}

// listBlock lists /sys/class/block, or /sys/block and the partitions below
// each disk when the class directory does not exist (kernels before 2.6.25
// without CONFIG_SYSFS_DEPRECATED off, and trimmed snapshots).
func listBlock(r *hostroot.Root) ([]blockEntry, error) {
	names, err := r.ReadDirNames("/sys/class/block")
	if err == nil {
		var out []blockEntry
		for _, n := range names {
			out = append(out, blockEntry{name: n, dir: "/sys/class/block/" + n})
		}
		return out, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	disks, err2 := r.ReadDirNames("/sys/block")
	if err2 != nil {
		return nil, err // the class directory is the one to report missing
	}
	var out []blockEntry
	for _, d := range disks {
		dir := "/sys/block/" + d
		out = append(out, blockEntry{name: d, dir: dir})
		subs, err := r.ReadDirNames(dir)
		if err != nil {
			continue
		}
		for _, p := range subs {
			if _, err := r.Lstat(dir + "/" + p + "/partition"); err == nil {
				out = append(out, blockEntry{name: p, dir: dir + "/" + p, parent: d})
			}
		}
	}
	return out, nil
}

// block reads one device. ok is false when it has vanished (no "dev").
func (s *sysReader) block(e blockEntry) (d BlockDevice, ok bool) {
	d.Name = e.name
	devName := e.dir + "/dev"
	v, present := s.attr(devName)
	if !present {
		return d, false
	}
	var err error
	if d.Major, d.Minor, err = parseDevNum(v); err != nil {
		s.malformed(devName, err)
		return d, false
	}
	if p, err := s.r.Resolve(e.dir); err == nil {
		d.SysPath = p
	}
	if n, ok := s.uint(e.dir + "/partition"); ok {
		d.Partition = int(n)
		d.Parent = e.parent
		if d.Parent == "" && d.SysPath != "" {
			d.Parent = path.Base(path.Dir(d.SysPath))
		}
		if st, ok := s.uint(e.dir + "/start"); ok {
			d.Start = s.sectors(e.dir+"/start", st)
		}
	}
	if n, ok := s.uint(e.dir + "/size"); ok {
		d.Size = s.sectors(e.dir+"/size", n)
	}
	d.ReadOnly = s.bool(e.dir + "/ro")
	d.Removable = s.bool(e.dir + "/removable")
	d.Rotational = s.bool(e.dir + "/queue/rotational")
	if n, ok := s.uint(e.dir + "/queue/logical_block_size"); ok {
		if n > math.MaxUint32 {
			s.malformed(e.dir+"/queue/logical_block_size", fmt.Errorf("%d out of range", n))
		} else {
			d.LogicalBlockSize = uint32(n)
		}
	}
	d.Holders = s.names(e.dir + "/holders")
	d.Slaves = s.names(e.dir + "/slaves")
	d.DMName, _ = s.attr(e.dir + "/dm/name")
	d.DMUUID, _ = s.attr(e.dir + "/dm/uuid")
	d.MDLevel, _ = s.attr(e.dir + "/md/level")

	rec, err := Udev(s.r, KindBlock, d.Major, d.Minor)
	switch {
	case err == nil:
		d.Udev = rec
	case !errors.Is(err, fs.ErrNotExist):
		s.errs = append(s.errs, err)
	}
	d.Model = firstNonEmpty(strings.TrimSpace(rec.property("ID_MODEL_ENC", "ID_MODEL")), s.text(e.dir+"/device/model"))
	d.Vendor = firstNonEmpty(strings.TrimSpace(rec.property("ID_VENDOR_ENC", "ID_VENDOR")), s.text(e.dir+"/device/vendor"))
	d.Serial = firstNonEmpty(strings.TrimSpace(rec.property("ID_SERIAL_SHORT")), s.text(e.dir+"/serial"), s.text(e.dir+"/device/serial"))
	d.WWN = rec.property("ID_WWN_WITH_EXTENSION", "ID_WWN")
	d.WWID = firstNonEmpty(s.text(e.dir+"/wwid"), s.text(e.dir+"/device/wwid"))
	d.FSType = rec.property("ID_FS_TYPE")
	d.UUID = rec.property("ID_FS_UUID_ENC", "ID_FS_UUID")
	d.Label = rec.property("ID_FS_LABEL_ENC", "ID_FS_LABEL")
	d.PartUUID = rec.property("ID_PART_ENTRY_UUID")
	d.PartLabel = DecodeUdevEnc(rec.property("ID_PART_ENTRY_NAME"))
	d.Type = s.blockType(e.dir, &d)
	return d, true
}

// blockType names the device as lsblk's TYPE column does.
func (s *sysReader) blockType(dir string, d *BlockDevice) string {
	switch {
	case d.Partition > 0:
		return "part"
	case strings.HasPrefix(d.Name, "dm-"):
		prefix, _, _ := strings.Cut(d.DMUUID, "-")
		prefix = strings.ToLower(prefix)
		if strings.HasPrefix(prefix, "part") {
			return "part" // kpartx: "part1-mpath-..."
		}
		if prefix == "" {
			return "dm"
		}
		return prefix
	case strings.HasPrefix(d.Name, "loop"):
		return "loop"
	case strings.HasPrefix(d.Name, "md"):
		if d.MDLevel != "" {
			return strings.ToLower(d.MDLevel)
		}
		return "md"
	}
	if v, ok := s.attr(dir + "/device/type"); ok {
		if n, err := parseUint32(v); err == nil {
			if name, ok := scsiTypes[n]; ok {
				return name
			}
		}
	}
	return "disk"
}

// scsiTypes names SCSI peripheral device types (SPC, the low 5 bits of
// INQUIRY byte 0, and 0x7f for "no LUN"), as util-linux does.
var scsiTypes = map[uint32]string{
	0x00: "disk", 0x01: "tape", 0x02: "printer", 0x03: "processor", 0x04: "worm",
	0x05: "rom", 0x06: "scanner", 0x07: "mo-disk", 0x08: "changer", 0x09: "comm",
	0x0c: "raid", 0x0d: "enclosure", 0x0e: "rbc", 0x11: "osd", 0x7f: "no-lun",
}

// linkParents fills each disk's Partitions and lets partitions inherit the
// queue attributes, which sysfs keeps only on the disk.
func linkParents(devs []BlockDevice) {
	byName := map[string]int{}
	for i := range devs {
		byName[devs[i].Name] = i
	}
	for i := range devs {
		p := &devs[i]
		if p.Partition == 0 || p.Parent == "" {
			continue
		}
		j, ok := byName[p.Parent]
		if !ok {
			continue
		}
		disk := &devs[j]
		disk.Partitions = append(disk.Partitions, p.Name)
		p.Removable = disk.Removable
		p.Rotational = disk.Rotational
		if p.LogicalBlockSize == 0 {
			p.LogicalBlockSize = disk.LogicalBlockSize
		}
	}
	num := map[string]int{}
	for _, d := range devs {
		num[d.Name] = d.Partition
	}
	for i := range devs {
		slices.SortStableFunc(devs[i].Partitions, func(a, b string) int { return num[a] - num[b] })
	}
}

// joinMounts fills MountPoints from a mount table.
func joinMounts(devs []BlockDevice, table []mounts.Mount) {
	for _, m := range table {
		for i := range devs {
			d := &devs[i]
			if (m.Major == d.Major && m.Minor == d.Minor) ||
				(m.Major == 0 && m.Source == "/dev/"+d.Name) {
				d.MountPoints = append(d.MountPoints, m.MountPoint)
			}
		}
	}
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// sysReader reads sysfs attributes through a Root with one reused buffer
// and collects the problems it meets.
type sysReader struct {
	r    *hostroot.Root
	buf  []byte
	errs []error
}

// attr returns an attribute's content without its trailing newline; present
// is false when it does not exist. Other read errors are collected.
func (s *sysReader) attr(name string) (v string, present bool) {
	var err error
	s.buf, err = s.r.AppendFile(s.buf[:0], name, 1<<16)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.errs = append(s.errs, err)
		}
		return "", false
	}
	return strings.TrimSuffix(string(s.buf), "\n"), true
}

// text is attr trimmed of the padding SCSI vendor and model strings carry.
func (s *sysReader) text(name string) string {
	v, _ := s.attr(name)
	return strings.TrimSpace(v)
}

func (s *sysReader) uint(name string) (uint64, bool) {
	v, ok := s.attr(name)
	if !ok {
		return 0, false
	}
	n, err := parseUint64(v)
	if err != nil {
		s.malformed(name, fmt.Errorf("%q: %v", v, err))
		return 0, false
	}
	return n, true
}

func (s *sysReader) bool(name string) bool {
	v, ok := s.attr(name)
	if !ok {
		return false
	}
	switch v {
	case "0":
		return false
	case "1":
		return true
	}
	s.malformed(name, fmt.Errorf("%q: want 0 or 1", v))
	return false
}

// sectors converts a count of 512-byte sectors to bytes.
func (s *sysReader) sectors(name string, n uint64) uint64 {
	if n > math.MaxUint64/sectorSize {
		s.malformed(name, fmt.Errorf("%d sectors overflow a byte count", n))
		return 0
	}
	return n * sectorSize
}

// names lists a directory of links (holders/, slaves/), sorted; none when
// it does not exist.
func (s *sysReader) names(dir string) []string {
	names, err := s.r.ReadDirNames(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.errs = append(s.errs, err)
		}
		return nil
	}
	slices.Sort(names)
	if len(names) == 0 {
		return nil
	}
	return names
}

func (s *sysReader) malformed(name string, detail error) {
	s.errs = append(s.errs, fmt.Errorf("%w: %s line 1: %v", hostroot.ErrMalformed, name, detail))
}

// parseDevNum parses "MAJOR:MINOR" as sysfs "dev" files and /sys/dev link
// names write it.
func parseDevNum(s string) (major, minor uint32, err error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want MAJOR:MINOR", s)
	}
	if major, err = parseUint32(a); err != nil {
		return 0, 0, fmt.Errorf("%q: major: %v", s, err)
	}
	if minor, err = parseUint32(b); err != nil {
		return 0, 0, fmt.Errorf("%q: minor: %v", s, err)
	}
	return major, minor, nil
}
