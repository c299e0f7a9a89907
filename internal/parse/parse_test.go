package parse

import (
	"errors"
	"strconv"
	"testing"
)

func TestNumbers(t *testing.T) {
	tests := []struct {
		in      string
		fn      string
		want    int64
		wantU   uint64
		wantErr error
	}{
		{in: "0", fn: "Uint", wantU: 0},
		{in: "18446744073709551615", fn: "Uint", wantU: 1<<64 - 1},
		{in: "18446744073709551616", fn: "Uint", wantErr: strconv.ErrRange},
		{in: "99999999999999999999", fn: "Uint", wantErr: strconv.ErrRange},
		{in: "", fn: "Uint", wantErr: strconv.ErrSyntax},
		{in: "+1", fn: "Uint", wantErr: strconv.ErrSyntax},
		{in: "1 ", fn: "Uint", wantErr: strconv.ErrSyntax},
		{in: "1_000", fn: "Uint", wantErr: strconv.ErrSyntax},
		{in: "-9223372036854775808", fn: "Int", want: -1 << 63},
		{in: "9223372036854775807", fn: "Int", want: 1<<63 - 1},
		{in: "9223372036854775808", fn: "Int", wantErr: strconv.ErrRange},
		{in: "-9223372036854775809", fn: "Int", wantErr: strconv.ErrRange},
		{in: "+5", fn: "Int", want: 5},
		{in: "-", fn: "Int", wantErr: strconv.ErrSyntax},
		{in: "--1", fn: "Int", wantErr: strconv.ErrSyntax},
		{in: "4294967295", fn: "Uint32", wantU: 1<<32 - 1},
		{in: "4294967296", fn: "Uint32", wantErr: strconv.ErrRange},
		{in: "-2147483648", fn: "Int32", want: -1 << 31},
		{in: "2147483648", fn: "Int32", wantErr: strconv.ErrRange},
		{in: "-2147483649", fn: "Int32", wantErr: strconv.ErrRange},
		{in: "000001ffffffffff", fn: "Hex", wantU: 0x1ffffffffff},
		{in: "FFFFFFFFFFFFFFFF", fn: "Hex", wantU: 1<<64 - 1},
		{in: "10000000000000000", fn: "Hex", wantErr: strconv.ErrRange},
		{in: "0x1", fn: "Hex", wantErr: strconv.ErrSyntax},
		{in: "", fn: "Hex", wantErr: strconv.ErrSyntax},
		{in: "g", fn: "Hex", wantErr: strconv.ErrSyntax},
	}
	for _, tt := range tests {
		var got int64
		var gotU uint64
		var err error
		switch tt.fn {
		case "Uint":
			gotU, err = Uint([]byte(tt.in))
		case "Int":
			got, err = Int([]byte(tt.in))
		case "Uint32":
			var n uint32
			n, err = Uint32([]byte(tt.in))
			gotU = uint64(n)
		case "Int32":
			var n int32
			n, err = Int32([]byte(tt.in))
			got = int64(n)
		case "Hex":
			gotU, err = Hex([]byte(tt.in))
		}
		if !errors.Is(err, tt.wantErr) || got != tt.want || gotU != tt.wantU {
			t.Errorf("%s(%q) = %d/%d, %v, want %d/%d, %v", tt.fn, tt.in, got, gotU, err, tt.want, tt.wantU, tt.wantErr)
		}
	}
}

func TestField(t *testing.T) {
	b := []byte(" \ta  bb\tc \n")
	var got []string
	for {
		f, rest := Field(b)
		if len(f) == 0 {
			break
		}
		got = append(got, string(f))
		b = rest
	}
	if len(got) != 3 || got[0] != "a" || got[1] != "bb" || got[2] != "c" {
		t.Errorf("Field split %q", got)
	}
	if n := CountFields([]byte(" \ta  bb\tc \n")); n != 3 {
		t.Errorf("CountFields = %d, want 3", n)
	}
	if n := CountFields([]byte(" \t\n")); n != 0 {
		t.Errorf("CountFields of blanks = %d, want 0", n)
	}
	line, rest := Line([]byte("one\ntwo"))
	if string(line) != "one" || string(rest) != "two" {
		t.Errorf("Line = %q, %q", line, rest)
	}
	line, rest = Line([]byte("last"))
	if string(line) != "last" || rest != nil {
		t.Errorf("Line = %q, %q", line, rest)
	}
}

// FuzzNumbers checks the parsers against strconv on every input.
func FuzzNumbers(f *testing.F) {
	for _, s := range []string{"0", "-1", "+7", "18446744073709551615", "ffff", "", "9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := Uint([]byte(s))
		su, serr := strconv.ParseUint(s, 10, 64)
		validDigits := s != "" && s[0] != '+' && s[0] != '-'
		if validDigits && (err == nil) != (serr == nil) || err == nil && u != su {
			t.Errorf("Uint(%q) = %d, %v; strconv: %d, %v", s, u, err, su, serr)
		}
		i, err := Int([]byte(s))
		si, serr := strconv.ParseInt(s, 10, 64)
		if (err == nil) != (serr == nil) || err == nil && i != si {
			t.Errorf("Int(%q) = %d, %v; strconv: %d, %v", s, i, err, si, serr)
		}
		h, err := Hex([]byte(s))
		sh, serr := strconv.ParseUint(s, 16, 64)
		if validDigits && (err == nil) != (serr == nil) || err == nil && h != sh {
			t.Errorf("Hex(%q) = %d, %v; strconv: %d, %v", s, h, err, sh, serr)
		}
	})
}
