//go:build !noasm && noavx2

package detect

// useAVX2 is false under the build tag noavx2: the build runs the SSE2 loop,
// what a CPU without AVX2 runs, on any CPU (tests and benchmarks). A var, not
// a const, as in the default build, so that tests can switch loops in both.
var useAVX2 = false
