package proc

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

func pids(procs []*Process) []int {
	if procs == nil {
		return nil
	}
	out := make([]int, len(procs))
	for i, p := range procs {
		out[i] = p.PID
	}
	return out
}

func TestTree(t *testing.T) {
	procs, err := List(context.Background(), hostroottest.MustRoot(t, smallHost()), &ScanOptions{Fields: FieldStat})
	if err != nil {
		t.Fatal(err)
	}
	tree := NewTree(procs)
	tests := []struct {
		pid                 int
		parent              int // 0: none
		children, ancestors []int
	}{
		{pid: 1, children: []int{100, 500}},
		{pid: 2, children: []int{10}},
		{pid: 10, parent: 2, ancestors: []int{2}},
		{pid: 100, parent: 1, children: []int{101}, ancestors: []int{1}},
		{pid: 101, parent: 100, ancestors: []int{100, 1}},
		{pid: 500, parent: 1, ancestors: []int{1}},
		{pid: 4242}, // not in the tree
	}
	for _, tt := range tests {
		parent := 0
		if p := tree.Parent(tt.pid); p != nil {
			parent = p.PID
		}
		if parent != tt.parent {
			t.Errorf("Parent(%d) = %d, want %d", tt.pid, parent, tt.parent)
		}
		if diff := cmp.Diff(tt.children, pids(tree.Children(tt.pid))); diff != "" {
			t.Errorf("Children(%d) mismatch (-want +got):\n%s", tt.pid, diff)
		}
		if diff := cmp.Diff(tt.ancestors, pids(tree.Ancestors(tt.pid))); diff != "" {
			t.Errorf("Ancestors(%d) mismatch (-want +got):\n%s", tt.pid, diff)
		}
	}
	if diff := cmp.Diff([]int{1, 2}, pids(tree.Roots())); diff != "" {
		t.Errorf("Roots() mismatch (-want +got):\n%s", diff)
	}
	if tree.Process(101) != procs[4] || tree.Process(7) != nil {
		t.Errorf("Process() does not return the scanned values")
	}
}

func TestTreeInconsistent(t *testing.T) {
	// A hand-made snapshot: 5 and 6 are each other's parent, 7 is its own,
	// 8's parent is missing. Nothing may loop forever.
	tree := NewTree([]*Process{
		{PID: 5, PPID: 6}, {PID: 6, PPID: 5}, {PID: 7, PPID: 7}, {PID: 8, PPID: 3}, {PID: 9, PPID: 8},
	})
	if diff := cmp.Diff([]int{6}, pids(tree.Ancestors(5))); diff != "" {
		t.Errorf("Ancestors(5) mismatch (-want +got):\n%s", diff)
	}
	if tree.Parent(7) != nil || tree.Children(7) != nil || tree.Ancestors(7) != nil {
		t.Errorf("a process that is its own parent is linked to itself")
	}
	if diff := cmp.Diff([]int{8}, pids(tree.Ancestors(9))); diff != "" {
		t.Errorf("Ancestors(9) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{7, 8}, pids(tree.Roots())); diff != "" {
		t.Errorf("Roots() mismatch (-want +got):\n%s", diff)
	}
}
