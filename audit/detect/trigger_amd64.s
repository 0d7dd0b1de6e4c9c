//go:build !noavx2

#include "textflag.h"

// func triggerAVX2(buf []byte, i int) (at int, mask uint64)
// See trigger_amd64.go. Registers: SI buf, AX the round's start, DX the last
// start with 64 bytes left; Y0 '0', Y1 9, Y2 '@', Y3 0xEF broadcast.
TEXT ·triggerAVX2(SB), NOSPLIT, $0-48
	MOVQ buf_base+0(FP), SI
	MOVQ buf_len+8(FP), DX
	MOVQ i+24(FP), AX
	SUBQ $64, DX
	MOVQ $0x30, BX
	MOVQ BX, X0
	VPBROADCASTB X0, Y0
	MOVQ $9, BX
	MOVQ BX, X1
	VPBROADCASTB X1, Y1
	MOVQ $0x40, BX
	MOVQ BX, X2
	VPBROADCASTB X2, Y2
	MOVQ $0xEF, BX
	MOVQ BX, X3
	VPBROADCASTB X3, Y3
	MOVQ $0x1FFFFFFFFFFFFFFF, R8 // the 61 decided bytes

loop:
	CMPQ AX, DX
	JGT  short
	VMOVDQU (SI)(AX*1), Y4
	VMOVDQU 32(SI)(AX*1), Y5

	// digits: x-'0' <= 9 unsigned, as min(x-'0', 9) == x-'0'
	VPSUBB    Y0, Y4, Y6
	VPMINUB   Y1, Y6, Y7
	VPCMPEQB  Y6, Y7, Y7
	VPMOVMSKB Y7, R9
	VPSUBB    Y0, Y5, Y6
	VPMINUB   Y1, Y6, Y7
	VPCMPEQB  Y6, Y7, Y7
	VPMOVMSKB Y7, R10
	SHLQ      $32, R10
	ORQ       R10, R9

	// '@' and the lead byte of a full-width form
	VPCMPEQB  Y2, Y4, Y6
	VPCMPEQB  Y3, Y4, Y7
	VPOR      Y6, Y7, Y6
	VPMOVMSKB Y6, R10
	VPCMPEQB  Y2, Y5, Y6
	VPCMPEQB  Y3, Y5, Y7
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
