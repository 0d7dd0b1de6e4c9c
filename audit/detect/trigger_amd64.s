//go:build !noasm

#include "textflag.h"

// The broadcast constants live in read-only memory and the loops take them as
// memory operands: a vector loop is called for every trigger past the kept
// mask (every ~65 bytes of a dense log) and usually finds it in the first
// round, so loading them into registers once per call costs more than it
// saves (four more instructions a call for the SSE2 loop, 78 instead of 74,
// and no faster). The SSE2 loop reads the first 16 bytes of the '@' and 0xEF
// rows and the two rows of its own at the end. Legacy SSE instructions fault
// on a memory operand that is not 16-byte aligned: the linker aligns a symbol
// of 32 bytes or more to 32 bytes, and every row starts at a multiple of 16.
DATA trigConst<>+0x00(SB)/8, $0x3030303030303030 // '0'
DATA trigConst<>+0x08(SB)/8, $0x3030303030303030
DATA trigConst<>+0x10(SB)/8, $0x3030303030303030
DATA trigConst<>+0x18(SB)/8, $0x3030303030303030
DATA trigConst<>+0x20(SB)/8, $0x0909090909090909 // 9
DATA trigConst<>+0x28(SB)/8, $0x0909090909090909
DATA trigConst<>+0x30(SB)/8, $0x0909090909090909
DATA trigConst<>+0x38(SB)/8, $0x0909090909090909
DATA trigConst<>+0x40(SB)/8, $0x4040404040404040 // '@'
DATA trigConst<>+0x48(SB)/8, $0x4040404040404040
DATA trigConst<>+0x50(SB)/8, $0x4040404040404040
DATA trigConst<>+0x58(SB)/8, $0x4040404040404040
DATA trigConst<>+0x60(SB)/8, $0xefefefefefefefef // lead byte of a full-width form
DATA trigConst<>+0x68(SB)/8, $0xefefefefefefefef
DATA trigConst<>+0x70(SB)/8, $0xefefefefefefefef
DATA trigConst<>+0x78(SB)/8, $0xefefefefefefefef
DATA trigConst<>+0x80(SB)/8, $0x5050505050505050 // 0x80-'0' (SSE2: digits to -128..-119)
DATA trigConst<>+0x88(SB)/8, $0x5050505050505050
DATA trigConst<>+0x90(SB)/8, $0x8989898989898989 // -119 (SSE2: above it, not a digit)
DATA trigConst<>+0x98(SB)/8, $0x8989898989898989
GLOBL trigConst<>(SB), RODATA|NOPTR, $160

// ROUNDS_BEGIN follows the loading of the arguments (SI buf, DX its length,
// AX i) in either loop and heads its rounds: DX becomes the last start with
// 64 bytes left, R8 the mask of a round's 61 decided bytes, and a round with
// fewer than 64 bytes goes to short. (The arguments are loaded outside the
// macro, where go vet checks their names and offsets.)
#define ROUNDS_BEGIN \
	SUBQ $64, DX; \
	MOVQ $0x1FFFFFFFFFFFFFFF, R8; \
loop: \
	CMPQ AX, DX; \
	JGT  short

// ROUND_END ends a round of either loop, with R9 the digits of its 64 bytes
// and R10 its '@' and 0xEF bytes: R9 becomes the mask of triggers among the
// decided bytes (R8), runs of four digits as d & d>>1 & d>>2 & d>>3; on to
// found if it is not 0, else to the next round, 61 bytes on.
#define ROUND_END \
	MOVQ R9, R11; \
	SHRQ $1, R11; \
	ANDQ R11, R9; \
	MOVQ R9, R11; \
	SHRQ $2, R11; \
	ANDQ R11, R9; \
	ORQ  R10, R9; \
	ANDQ R8, R9; \
	JNZ  found; \
	ADDQ $61, AX; \
	JMP  loop

// func nextRound(buf []byte, i int) (at int, mask uint64)
// The loop useAVX2 picks, as a tail jump: nextTrigger makes one call,
// whichever loop runs (a branch in Go around two calls would not be inlined).
TEXT ·nextRound(SB), NOSPLIT, $0-48
	CMPB ·useAVX2(SB), $0
	JEQ  sse2
	JMP  ·triggerAVX2(SB)
sse2:
	JMP  ·triggerSSE2(SB)

// func triggerAVX2(buf []byte, i int) (at int, mask uint64)
// See trigger_amd64.go. Registers: SI buf, AX the round's start, DX the last
// start with 64 bytes left, R8 the mask of the 61 decided bytes.
TEXT ·triggerAVX2(SB), NOSPLIT, $0-48
	MOVQ buf_base+0(FP), SI
	MOVQ buf_len+8(FP), DX
	MOVQ i+24(FP), AX
	ROUNDS_BEGIN
	VMOVDQU (SI)(AX*1), Y4
	VMOVDQU 32(SI)(AX*1), Y5

	// digits: x-'0' <= 9 unsigned, as min(x-'0', 9) == x-'0'
	VPSUBB    trigConst<>+0x00(SB), Y4, Y6
	VPMINUB   trigConst<>+0x20(SB), Y6, Y7
	VPCMPEQB  Y6, Y7, Y7
	VPMOVMSKB Y7, R9
	VPSUBB    trigConst<>+0x00(SB), Y5, Y6
	VPMINUB   trigConst<>+0x20(SB), Y6, Y7
	VPCMPEQB  Y6, Y7, Y7
	VPMOVMSKB Y7, R10
	SHLQ      $32, R10
	ORQ       R10, R9

	// '@' and the lead byte of a full-width form
	VPCMPEQB  trigConst<>+0x40(SB), Y4, Y6
	VPCMPEQB  trigConst<>+0x60(SB), Y4, Y7
	VPOR      Y6, Y7, Y6
	VPMOVMSKB Y6, R10
	VPCMPEQB  trigConst<>+0x40(SB), Y5, Y6
	VPCMPEQB  trigConst<>+0x60(SB), Y5, Y7
	VPOR      Y6, Y7, Y6
	VPMOVMSKB Y6, R11
	SHLQ      $32, R11
	ORQ       R11, R10

	ROUND_END

found:
	VZEROUPPER
	MOVQ AX, at+32(FP)
	MOVQ R9, mask+40(FP)
	RET

short:
	VZEROUPPER
	MOVQ AX, at+32(FP)
	MOVQ $0, mask+40(FP)
	RET

// SSE2_MASKS loads bytes off..off+15 of the round into x and sets bit k of
// ae for each '@' or 0xEF, of nd for each byte that is not a digit.
#define SSE2_MASKS(off, x, ae, nd) \
	MOVOU    off(SI)(AX*1), x; \
	MOVO     x, X4; \
	PCMPEQB  trigConst<>+0x40(SB), X4; \
	MOVO     x, X5; \
	PCMPEQB  trigConst<>+0x60(SB), X5; \
	POR      X5, X4; \
	PMOVMSKB X4, ae; \
	PADDB    trigConst<>+0x80(SB), x; \
	PCMPGTB  trigConst<>+0x90(SB), x; \
	PMOVMSKB x, nd

// func triggerSSE2(buf []byte, i int) (at int, mask uint64)
// triggerAVX2 for CPUs without AVX2, in SSE2 (every x86-64 CPU has it): the
// same rounds and results from four 16-byte vectors. Legacy SSE encoding, not
// VEX, so no upper half is ever dirtied and no VZEROUPPER is needed. Two-
// operand SSE overwrites its destination, hence the MOVO copies. Digits take
// one compare instead of AVX2's min and compare: x+0x80-'0' maps '0'-'9' to
// -128..-119, so PCMPGTB against -119 flags the bytes that are not digits, and
// one NOTQ of the round's 64-bit mask turns them into digits. Registers as in
// ROUNDS_BEGIN and ROUND_END; R9 holds the non-digits until the NOTQ, R11 and
// R12 the 16 bits of a vector before they are shifted into R10 and R9.
TEXT ·triggerSSE2(SB), NOSPLIT, $0-48
	MOVQ buf_base+0(FP), SI
	MOVQ buf_len+8(FP), DX
	MOVQ i+24(FP), AX
	ROUNDS_BEGIN
	SSE2_MASKS(0, X0, R10, R9)
	SSE2_MASKS(16, X1, R11, R12)
	SHLQ $16, R11
	ORQ  R11, R10
	SHLQ $16, R12
	ORQ  R12, R9
	SSE2_MASKS(32, X2, R11, R12)
	SHLQ $32, R11
	ORQ  R11, R10
	SHLQ $32, R12
	ORQ  R12, R9
	SSE2_MASKS(48, X3, R11, R12)
	SHLQ $48, R11
	ORQ  R11, R10
	SHLQ $48, R12
	ORQ  R12, R9

	NOTQ R9 // digits
	ROUND_END

found:
	MOVQ AX, at+32(FP)
	MOVQ R9, mask+40(FP)
	RET

short:
	MOVQ AX, at+32(FP)
	MOVQ $0, mask+40(FP)
	RET

// func dirtyUpper()
// Leaves the upper half of Y8 dirty, as the skip loop must never do; only
// BenchmarkSHA256AfterSkip calls it, to show what that state costs the SSE
// code that follows on this CPU.
TEXT ·dirtyUpper(SB), NOSPLIT, $0-0
	VPCMPEQB Y8, Y8, Y8
	RET
