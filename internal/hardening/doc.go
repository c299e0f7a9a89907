// Package hardening holds hostscope's cross-package hardening tests and
// nothing else: scans under process churn and forced PID reuse, live scans
// with privileges removed (an unprivileged user, hidepid /proc mounts), and a
// trace of every file a full scan opens. Tests that concern one package live
// next to its code instead (hostroot's hostile-root escape suite, proc's
// bounded parsers, the fuzz targets). RELIABILITY.md at the module root lists
// what these tests try and how to reproduce each.
//
// Most tests need root (namespaces, mounts, other users' credentials) and
// skip with the reason otherwise; CI runs them as root. They build
// testdata/helper, a static program that plays the other side of each fault.
package hardening
