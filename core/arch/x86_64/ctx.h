/*
 * x86_64/ctx.h - save-area layout of a suspended context (System V AMD64 ABI).
 *
 * A suspended goroutine is just its saved stack pointer. rilli_ctx_switch() pushes, on the
 * stack being left, the callee-saved registers and the FPU control words:
 *
 *     sp + RILL_CTX_OFF_RET    return address (resumed with ret; switch.S says why)
 *     sp + RILL_CTX_OFF_RBP    rbp  (frame pointer; 0 in a new goroutine ends the fp chain)
 *     sp + RILL_CTX_OFF_RBX    rbx
 *     sp + RILL_CTX_OFF_R12    r12  (a new goroutine gets its struct rilli_g * here)
 *     sp + RILL_CTX_OFF_R13    r13
 *     sp + RILL_CTX_OFF_R14    r14
 *     sp + RILL_CTX_OFF_R15    r15
 *     sp + RILL_CTX_OFF_MXCSR  mxcsr (32 bits)  and at +4 the x87 control word (16 bits)
 *
 * Callee-saved per the ABI: rbx, rbp, r12-r15, plus the MXCSR control bits and the x87 CW.
 * Everything else is caller-saved, so the C caller of the switch already spilled it.
 * The stack pointer is 16-byte aligned at a call; a new goroutine's first frame is built so
 * that its entry sees rsp == 16n (as just after a call's push would be 16n + 8). The 128-byte
 * red zone below rsp belongs to leaf functions; rilli_ctx_switch is not a leaf that uses it.
 */
#ifndef RILL_ARCH_CTX_INSIDE
#error "include core/arch/ctx.h, not an ISA header"
#endif

#define RILL_CTX_OFF_MXCSR 0
#define RILL_CTX_OFF_FPUCW 4
#define RILL_CTX_OFF_R15 8
#define RILL_CTX_OFF_R14 16
#define RILL_CTX_OFF_R13 24
#define RILL_CTX_OFF_R12 32
#define RILL_CTX_OFF_RBX 40
#define RILL_CTX_OFF_RBP 48
#define RILL_CTX_OFF_RET 56
#define RILL_CTX_FRAME 64 /* bytes of the save area, return address included */

#define RILL_CTX_MXCSR_DEFAULT 0x1F80 /* all exceptions masked, round to nearest */
#define RILL_CTX_FPUCW_DEFAULT 0x037F /* x87: all masked, 64-bit precision */

#ifndef __ASSEMBLER__
/*
 * Save the current context and publish its stack pointer in *save_sp; then, on spin_stack
 * (top of a scratch stack owned by this worker), wait until *load_slot is non-NULL, take it
 * (storing NULL) and resume that context. Returns when someone switches back to *save_sp,
 * with the 'arg' of that switch: whoever resumes a context tells it where it now runs (the
 * scheduler passes its P), which saves a thread-local lookup on every switch.
 * The store to *save_sp is the last access to the old stack (a release on x86 TSO), so
 * another thread may resume the old context as soon as it sees it - which is why the wait
 * for the target runs on the scratch stack: two threads each entering the G the other is
 * leaving never wait for each other.
 */
void *rilli_ctx_switch(void **save_sp, void **load_slot, void *spin_stack, void *arg);
/* First frame of every goroutine: calls rilli_g_main(r12, the arg it was entered with) and
 * never returns. */
void rilli_ctx_entry(void);
#endif
