// Command lsblk prints a host's block devices as a tree of disks, their
// partitions and the devices built on them (LVM, dm-crypt, md), with sizes
// and mount points, like util-linux's lsblk but through a host root: it
// works unchanged on a node's file system mounted into a container.
//
//	go run ./examples/lsblk                    # this machine, or the HOST_* environment
//	go run ./examples/lsblk --root /host       # a host mounted at /host
//	go run ./examples/lsblk --json --bytes     # machine-readable
//
// Devices of size 0 (idle loop devices, unconfigured zram) are hidden unless
// --all is given. Problems reading single attributes are reported on stderr
// and do not stop the listing.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hostscope/hostscope/dev"
	"github.com/hostscope/hostscope/hostroot"
)

// options are the command line switches run honours.
type options struct {
	json  bool // JSON instead of a table
	bytes bool // sizes in bytes in the table (JSON always has bytes)
	all   bool // include devices of size 0
}

func main() {
	dir := flag.String("root", "", "directory holding the host's file system (default: the HOST_* environment, else /)")
	var o options
	flag.BoolVar(&o.json, "json", false, "print JSON")
	flag.BoolVar(&o.bytes, "bytes", false, "print sizes in bytes")
	flag.BoolVar(&o.all, "all", false, "include empty devices")
	flag.Parse()
	var root *hostroot.Root
	var err error
	if *dir != "" {
		root, err = hostroot.Dir(*dir)
	} else {
		root, err = hostroot.FromEnv()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lsblk:", err)
		os.Exit(1)
	}
	defer root.Close()
	if err := run(context.Background(), root, os.Stdout, os.Stderr, o); err != nil {
		fmt.Fprintln(os.Stderr, "lsblk:", err)
		os.Exit(1)
	}
}

// node is one device in the printed tree; a device built on several others
// (an md array, a multipath map) appears under each, as in lsblk.
type node struct {
	Name        string   `json:"name"`
	KName       string   `json:"kname"`
	MajMin      string   `json:"maj_min"`
	Size        uint64   `json:"size"`
	Type        string   `json:"type"`
	ReadOnly    bool     `json:"ro"`
	Removable   bool     `json:"rm"`
	Rotational  bool     `json:"rota"`
	FSType      string   `json:"fstype"`
	UUID        string   `json:"uuid"`
	Label       string   `json:"label"`
	Model       string   `json:"model"`
	Serial      string   `json:"serial"`
	MountPoints []string `json:"mountpoints"`
	Children    []*node  `json:"children,omitempty"`
}

// run lists the devices of root on w; warnings go to errw.
func run(ctx context.Context, root *hostroot.Root, w, errw io.Writer, o options) error {
	devs, err := dev.Blocks(ctx, root, nil)
	if err != nil {
		if len(devs) == 0 {
			return err
		}
		fmt.Fprintln(errw, "lsblk: warning:", err)
	}
	tree := buildTree(devs, o.all)
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			BlockDevices []*node `json:"blockdevices"`
		}{tree})
	}
	rows := [][]string{{"NAME", "MAJ:MIN", "SIZE", "RO", "TYPE", "MOUNTPOINTS"}}
	for _, n := range tree {
		rows = appendRows(rows, n, "", "", o)
	}
	return writeTable(w, rows)
}

// buildTree puts partitions under their disk and holders under the devices
// they are built on; devices that are neither are the roots.
func buildTree(devs []dev.BlockDevice, all bool) []*node {
	byName := map[string]dev.BlockDevice{}
	for _, d := range devs {
		byName[d.Name] = d
	}
	var mk func(d dev.BlockDevice, depth int) *node
	mk = func(d dev.BlockDevice, depth int) *node {
		n := &node{
			Name: d.Name, KName: d.Name, MajMin: strconv.FormatUint(uint64(d.Major), 10) + ":" + strconv.FormatUint(uint64(d.Minor), 10),
			Size: d.Size, Type: d.Type, ReadOnly: d.ReadOnly, Removable: d.Removable, Rotational: d.Rotational,
			FSType: d.FSType, UUID: d.UUID, Label: d.Label, Model: d.Model, Serial: d.Serial,
			MountPoints: d.MountPoints,
		}
		if d.DMName != "" {
			n.Name = d.DMName // lsblk shows the mapper name
		}
		if n.MountPoints == nil {
			n.MountPoints = []string{}
		}
		if depth > 16 {
			return n // a corrupt holders/ cycle
		}
		var kids []string
		kids = append(kids, d.Partitions...)
		kids = append(kids, d.Holders...)
		for _, k := range kids {
			if c, ok := byName[k]; ok && (all || c.Size > 0) {
				n.Children = append(n.Children, mk(c, depth+1))
			}
		}
		return n
	}
	var roots []*node
	for _, d := range devs {
		if d.Parent != "" || len(d.Slaves) > 0 || (!all && d.Size == 0) {
			continue
		}
		roots = append(roots, mk(d, 0))
	}
	return roots
}

// appendRows adds one row per mount point of n (at least one), with
// tree-drawing prefixes in the NAME column, then n's children.
func appendRows(rows [][]string, n *node, indent, branch string, o options) [][]string {
	ro := "0"
	if n.ReadOnly {
		ro = "1"
	}
	size := human(n.Size)
	if o.bytes {
		size = strconv.FormatUint(n.Size, 10)
	}
	points := n.MountPoints
	if len(points) == 0 {
		points = []string{""}
	}
	rows = append(rows, []string{branch + n.Name, n.MajMin, size, ro, n.Type, points[0]})
	for _, p := range points[1:] {
		rows = append(rows, []string{"", "", "", "", "", p})
	}
	for i, c := range n.Children {
		b, next := "├─", "│ "
		if i == len(n.Children)-1 {
			b, next = "└─", "  "
		}
		rows = appendRows(rows, c, indent+next, indent+b, o)
	}
	return rows
}

// rightAligned marks the numeric columns.
var rightAligned = []bool{false, true, true, true, false, false}

// writeTable pads each column to its widest cell (counting runes, for the
// tree drawing), numbers to the right; the last column is not padded.
func writeTable(w io.Writer, rows [][]string) error {
	width := make([]int, len(rightAligned))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			switch {
			case i == len(r)-1:
				b.WriteString(c)
			case rightAligned[i]:
				b.WriteString(pad + c + " ")
			default:
				b.WriteString(c + pad + " ")
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, strings.ReplaceAll(b.String(), " \n", "\n"))
	return err
}

// human formats bytes with binary units, as lsblk does ("465.8G").
func human(n uint64) string {
	const units = "BKMGTPE"
	if n < 1024 {
		return strconv.FormatUint(n, 10) + "B"
	}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	s := strconv.FormatFloat(f, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + string(units[i])
}
