package alloccount

import "testing"

var sink []byte

func TestBytes(t *testing.T) {
	const n = 1 << 20
	got := Bytes(func() { sink = make([]byte, n) })
	if got < n || got > 2*n {
		t.Errorf("Bytes of a %d-byte allocation = %d", n, got)
	}
	if got := Bytes(func() {}); got > 64<<10 {
		t.Errorf("Bytes of nothing = %d", got)
	}
}
