/*
 * timer.c: the LAPIC timer interrupt (vector 0x40), entered from timer_entry in
 * entry.S.  It does a little work through two calls so that samples landing in
 * an interrupt show a short, known chain on top of the interrupted code.
 */
#include "kernel.h"

__attribute__((noipa)) static void tick_account(struct percpu *p)
{
	LEAF_FRAME();

	p->ticks++;
}

__attribute__((noipa)) static void tick_update(struct percpu *p)
{
	tick_account(p);
}

void timer_interrupt(void)
{
	tick_update(this_cpu());
	lapic_eoi();
}
