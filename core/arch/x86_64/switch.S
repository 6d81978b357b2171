/*
 * switch.S - x86-64 context switch and goroutine entry. Layout: core/arch/x86_64/ctx.h.
 * Design: docs/DESIGN.md "Context switch".
 *
 * The CFI describes the save area in terms of the CFA, and the area has the same layout on
 * the stack being left and on the stack being entered, so gdb and perf unwind correctly at
 * every instruction, before and after the stack swap.
 *
 * The switch resumes with ret. The call into it pushed a return-stack entry, and the ret pops
 * it: the predictor stays in step with the stack, and it is right whenever the target was
 * suspended from the same call site (the switch is called from a few places only, so that is
 * the common case: two yielding Gs, a channel ping-pong). Resuming with pop + jmp left that
 * entry behind, and every later return on the new G's stack missed: a yield cost 21 ns with it
 * and 9.4 ns with ret on this machine (AMD EPYC, 1 worker).
 */
#include "core/arch/ctx.h"

    .text
    .globl  rilli_ctx_switch
    .hidden rilli_ctx_switch
    .type   rilli_ctx_switch, @function
    .p2align 4
rilli_ctx_switch:
    .cfi_startproc
    pushq   %rbp
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %rbp, 0
    pushq   %rbx
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %rbx, 0
    pushq   %r12
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r12, 0
    pushq   %r13
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r13, 0
    pushq   %r14
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r14, 0
    pushq   %r15
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r15, 0
    subq    $8, %rsp
    .cfi_adjust_cfa_offset 8
    stmxcsr RILL_CTX_OFF_MXCSR(%rsp)
    fnstcw  RILL_CTX_OFF_FPUCW(%rsp)
    movq    %rsp, %r11
    .cfi_def_cfa_register %r11      /* the old frame, while rsp is elsewhere */
    movq    %rsp, (%rdi)            /* publish: last access to the old stack */
    movq    %rdx, %rsp              /* wait on the worker's spin stack, not on the old one:
                                       another thread may resume the old context right now */
1:  movq    (%rsi), %r10            /* the target's saved sp; NULL while it is still leaving */
    testq   %r10, %r10
    jnz     2f
    pause
    jmp     1b
2:  movq    $0, (%rsi)              /* claim it: the target is ours to run */
    movq    %r10, %rsp
    .cfi_def_cfa_register %rsp      /* same frame layout on the new stack */
    ldmxcsr RILL_CTX_OFF_MXCSR(%rsp)
    fldcw   RILL_CTX_OFF_FPUCW(%rsp)
    addq    $8, %rsp
    .cfi_adjust_cfa_offset -8
    popq    %r15
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r15
    popq    %r14
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r14
    popq    %r13
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r13
    popq    %r12
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r12
    popq    %rbx
    .cfi_adjust_cfa_offset -8
    .cfi_restore %rbx
    popq    %rbp
    .cfi_adjust_cfa_offset -8
    .cfi_restore %rbp
    movq    %rcx, %rax              /* the resumed context returns our 4th argument */
    ret                             /* a ret, not pop + jmp: see the top */
    .cfi_endproc
    .size   rilli_ctx_switch, .-rilli_ctx_switch

/*
 * A new goroutine's saved frame returns here with rsp 16-byte aligned, rbp = 0, its
 * struct rilli_g * in r12 and the switch's return value (the entering P) in rax. The return
 * address is marked undefined, so unwinders stop at this frame: a backtrace ends
 * "rilli_ctx_entry" below the goroutine's function.
 */
    .globl  rilli_ctx_entry
    .hidden rilli_ctx_entry
    .type   rilli_ctx_entry, @function
    .p2align 4
rilli_ctx_entry:
    .cfi_startproc
    .cfi_undefined %rip
    movq    %r12, %rdi
    movq    %rax, %rsi              /* what the switch returns: the P that entered us */
    call    rilli_g_main
    ud2                             /* rilli_g_main never returns */
    .cfi_endproc
    .size   rilli_ctx_entry, .-rilli_ctx_entry

    .section .note.GNU-stack,"",@progbits
