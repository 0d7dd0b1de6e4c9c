//go:build !noavx2

#include "textflag.h"

// The broadcast constants live in read-only memory and the loop takes them as
// memory operands: the skip loop is called once per trigger (every ~60 bytes
// of a dense log), so building them in registers on every call cost as much
// as a round of the loop itself.
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
GLOBL trigConst<>(SB), RODATA|NOPTR, $128

// func triggerAVX2(buf []byte, i int) (at int, mask uint64)
// See trigger_amd64.go. Registers: SI buf, AX the round's start, DX the last
// start with 64 bytes left, R8 the mask of the 61 decided bytes.
TEXT ·triggerAVX2(SB), NOSPLIT, $0-48
	MOVQ buf_base+0(FP), SI
	MOVQ buf_len+8(FP), DX
	MOVQ i+24(FP), AX
	SUBQ $64, DX
	MOVQ $0x1FFFFFFFFFFFFFFF, R8

loop:
	CMPQ AX, DX
	JGT  short
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

	// runs of four digits: d & d>>1 & d>>2 & d>>3
	MOVQ R9, R11
	SHRQ $1, R11
	ANDQ R11, R9
	MOVQ R9, R11
	SHRQ $2, R11
	ANDQ R11, R9

	ORQ  R10, R9
	ANDQ R8, R9
	JNZ  found
	ADDQ $61, AX
	JMP  loop

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

// func dirtyUpper()
// Leaves the upper half of Y8 dirty, as the skip loop must never do; only
// BenchmarkSHA256AfterSkip calls it, to show what that state costs the SSE
// code that follows on this CPU.
TEXT ·dirtyUpper(SB), NOSPLIT, $0-0
	VPCMPEQB Y8, Y8, Y8
	RET
