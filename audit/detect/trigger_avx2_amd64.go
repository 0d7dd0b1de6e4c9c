//go:build !noasm && !noavx2

package detect

import "golang.org/x/sys/cpu"

// useAVX2 picks the AVX2 skip loop where the CPU and the OS support it, the
// SSE2 one elsewhere (trigger_amd64.go).
var useAVX2 = cpu.X86.HasAVX2
