package runtimestate

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/alloccount"
)

// allocBound is what decoding n bytes of state file may allocate: a small
// multiple of n (encoding/json copies strings and grows maps) plus a
// constant for the fuzzing machinery.
func allocBound(n int) uint64 { return 64*uint64(n) + 256<<10 }

// stateParsers are the runtime state file parsers, each on a whole file.
var stateParsers = map[string]func([]byte) error{
	"docker config.v2.json": func(b []byte) error {
		_, err := parseDockerConfig("/var/lib/docker/containers/x/config.v2.json", b, "")
		return err
	},
	"OCI config.json": func(b []byte) error {
		_, err := parseOCIConfig("/run/x/config.json", b, strings.Repeat("ab", 32), "containerd")
		return err
	},
	"containers.json": func(b []byte) error {
		_, err := parseContainersJSON("/var/lib/containers/storage/overlay-containers/containers.json", b)
		return err
	},
	"OCI config.json, security": func(b []byte) error {
		return parseOCISecurity("/run/x/config.json", b, &Spec{})
	},
	"docker hostconfig.json": func(b []byte) error {
		return parseDockerHostConfig("/var/lib/docker/containers/x/hostconfig.json", b, &Spec{})
	},
}

// FuzzParseStateBounded holds the docker, OCI and containers/storage
// parsers to linear memory on any input: a container's state file is
// written by its runtime from values a tenant chooses (labels,
// annotations, names).
func FuzzParseStateBounded(f *testing.F) {
	f.Add([]byte(shimCtrConfig))
	f.Add([]byte(criCtrSpec))
	f.Add([]byte(crioContainersJSON))
	f.Add([]byte(`{"annotations":{"a":"b"},"Config":{"Labels":{"c":"d"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for label, parse := range stateParsers {
			var err error
			if n := alloccount.Bytes(func() { err = parse(data) }); n > allocBound(len(data)) {
				t.Fatalf("%s: parsing %d bytes allocated %d", label, len(data), n)
			}
			if err != nil && !errors.Is(err, hostroot.ErrMalformed) {
				t.Fatalf("%s: error %v does not wrap ErrMalformed", label, err)
			}
		}
	})
}

// TestParseStateLargeInputs: worst-case state files at the scale of the
// read cap, bounded in memory and time.
func TestParseStateLargeInputs(t *testing.T) {
	const size = 1 << 20
	many := func(open, item, sep, close string) []byte {
		var b bytes.Buffer
		b.WriteString(open)
		for i := 0; b.Len() < size; i++ {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(strings.ReplaceAll(item, "N", string(rune('a'+i%26))+strings.Repeat("x", i%7)))
		}
		b.WriteString(close)
		return b.Bytes()
	}
	inputs := map[string][]byte{
		"nesting":           bytes.Repeat([]byte("["), size),
		"object nesting":    bytes.Repeat([]byte(`{"a":`), size/5),
		"many annotations":  many(`{"annotations":{`, `"kN":"v"`, ",", "}}"),
		"many labels":       many(`{"Config":{"Labels":{`, `"kN":"v"`, ",", "}}}"),
		"many containers":   many("[", `{"id":"N","names":["n"],"metadata":"{}"}`, ",", "]"),
		"long string":       append(append([]byte(`{"Name":"`), bytes.Repeat([]byte("\\u0041"), size/6)...), []byte(`"}`)...),
		"whitespace":        bytes.Repeat([]byte(" "), size),
		"many nulls":        many("[", "null", ",", "]"),
		"many capabilities": many(`{"linux":{},"process":{"capabilities":{"bounding":[`, `"CAP_KILL"`, ",", "]}}}"), // no N: one valid name, repeated
		"many namespaces":   many(`{"linux":{"namespaces":[`, `{"type":"pid","path":"/N"}`, ",", "]}}"),
	}
	for label, data := range inputs {
		for parser, parse := range stateParsers {
			var err error
			start := time.Now()
			n := alloccount.Bytes(func() { err = parse(data) })
			took := time.Since(start)
			if err != nil && !errors.Is(err, hostroot.ErrMalformed) {
				t.Errorf("%s of %s: error %v does not wrap ErrMalformed", parser, label, err)
			}
			if n > allocBound(len(data)) {
				t.Errorf("%s of %s (%d bytes) allocated %d bytes", parser, label, len(data), n)
			}
			if took > 10*time.Second {
				t.Errorf("%s of %s (%d bytes) took %v", parser, label, len(data), took)
			}
		}
	}
}
