#!/bin/sh
# Copies this machine's block-device sysfs attributes, /proc/devices and
# udev records into testdata/DIR as plain files, and records every symlink
# met on the way in DIR/links.txt ("LINK TARGET", link text as the kernel
# shows it), which the tests recreate in memory. Run from dev/testdata:
#   sh capture.sh vm
set -eu
out=$1
rm -rf "$out"
mkdir -p "$out/proc"
cp /proc/devices "$out/proc/devices"
: > "$out/links.txt"
copy() { # copy a file if readable
	[ -f "$1" ] && [ -r "$1" ] || return 0
	mkdir -p "$out$(dirname "$1")"
	cat "$1" > "$out$1" 2>/dev/null || rm -f "$out$1"
}
for link in /sys/class/block/*; do
	t=$(readlink "$link")
	echo "$link $t" >> "$out/links.txt"
	dir=$(cd "$link" && pwd -P)
	for a in dev size ro removable partition start serial wwid uevent \
		queue/rotational queue/logical_block_size dm/name dm/uuid md/level; do
		copy "$dir/$a"
	done
	for sub in holders slaves; do
		mkdir -p "$out$dir/$sub"
		for h in "$dir/$sub"/*; do
			[ -L "$h" ] && echo "$dir/$sub/$(basename "$h") $(readlink "$h")" >> "$out/links.txt"
		done
	done
	if [ -L "$dir/device" ]; then
		echo "$dir/device $(readlink "$dir/device")" >> "$out/links.txt"
		ddir=$(cd "$dir/device" && pwd -P)
		for a in model vendor type serial wwid; do copy "$ddir/$a"; done
	fi
done
if [ -d /run/udev/data ]; then
	for f in /run/udev/data/b*; do copy "$f"; done
fi
