/*
 * ctx.h - selects the context-switch implementation for the target ISA.
 *
 * Each ISA lives in core/arch/<isa>/ with a ctx.h (save-area layout, shared with switch.S) and
 * a switch.S. Adding an ISA is one new folder and one line here.
 */
#ifndef RILL_CORE_ARCH_CTX_H
#define RILL_CORE_ARCH_CTX_H

#define RILL_ARCH_CTX_INSIDE 1
#if defined(__x86_64__)
#include "core/arch/x86_64/ctx.h"
#else
#error "rill: no context switch for this ISA; add core/arch/<isa>/{ctx.h,switch.S}"
#endif
#undef RILL_ARCH_CTX_INSIDE

#endif
