package hostroot

// ForceUserspace makes every lookup of r go through the userspace resolver
// and the O_NOFOLLOW walk, as on a kernel without openat2, whatever kind of
// Root r is (ProcRoot's included). Tests call it before using r.
func ForceUserspace(r *Root) {
	for _, m := range r.mounts {
		if b, ok := m.be.(*osBackend); ok {
			b.openat2 = false
		}
		m.fast = resolveNone
	}
	r.whole = nil
}
