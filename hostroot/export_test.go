package hostroot

// Hooks for the external tests.
var (
	DirWithoutOpenat2 = dirWithoutOpenat2
	FromEnvLookup     = fromEnv
)
