package proc

import "testing"

func TestParseExe(t *testing.T) {
	tests := []struct {
		link    string
		path    string
		deleted bool
	}{
		{"/usr/bin/bash", "/usr/bin/bash", false},
		{"/usr/sbin/nginx (deleted)", "/usr/sbin/nginx", true},
		{"/memfd:sealed-91173221a7ea (deleted)", "/memfd:sealed-91173221a7ea", true}, // a memfd binary, as runc's
		{"/a (deleted) (deleted)", "/a (deleted)", true},
		{"/opt/app (deleted)/bin", "/opt/app (deleted)/bin", false},
		{"", "", false},
	}
	for _, tt := range tests {
		path, deleted := parseExe(tt.link)
		if path != tt.path || deleted != tt.deleted {
			t.Errorf("parseExe(%q) = %q, %v, want %q, %v", tt.link, path, deleted, tt.path, tt.deleted)
		}
	}
}

func FuzzParseExe(f *testing.F) {
	f.Add("/usr/bin/x (deleted)")
	f.Fuzz(func(t *testing.T, link string) {
		path, deleted := parseExe(link)
		if deleted && path+deletedSuffix != link || !deleted && path != link {
			t.Fatalf("parseExe(%q) = %q, %v", link, path, deleted)
		}
	})
}
