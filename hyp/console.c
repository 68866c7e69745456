/* SPDX-License-Identifier: MIT */
/*
 * A console on the PL011: enough printf for the boot log. With the MMU off
 * it uses the UART's physical address, with it on the private mapping the
 * host (and later __pkvm_init) created.
 */
#include <hyp/hyp.h>
#include <stdarg.h>

u64 hyp_uart_va;

static volatile u32 *uart_dr(void)
{
	if (read_sysreg(sctlr_el2) & 1)
		return (volatile u32 *)(uintptr_t)(hyp_uart_va + HS_UART_DR);
	return (volatile u32 *)(uintptr_t)(HS_UART_BASE + HS_UART_DR);
}

static void hyp_putc(char c)
{
	if (!hyp_uart_va && (read_sysreg(sctlr_el2) & 1))
		return; /* no mapping: stay silent rather than fault */
	*uart_dr() = (u32)(unsigned char)c;
}

void hyp_puts(const char *s)
{
	while (*s)
		hyp_putc(*s++);
}

static void put_num(u64 v, unsigned base, int width, char pad, bool neg)
{
	char buf[24];
	int n = 0;
	do {
		unsigned d = (unsigned)(v % base);
		buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	if (neg)
		buf[n++] = '-';
	while (width-- > n)
		hyp_putc(pad);
	while (n)
		hyp_putc(buf[--n]);
}

int hyp_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			hyp_putc(*p);
			continue;
		}
		p++;
		bool alt = false;
		char pad = ' ';
		int width = 0, lng = 0;
		if (*p == '#') {
			alt = true;
			p++;
		}
		if (*p == '0') {
			pad = '0';
			p++;
		}
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (*p++ - '0');
		while (*p == 'l' || *p == 'z') {
			lng++;
			p++;
		}
		switch (*p) {
		case 'd':
		case 'i': {
			s64 v = lng ? va_arg(ap, s64) : va_arg(ap, int);
			put_num(v < 0 ? (u64)-v : (u64)v, 10, width, pad, v < 0);
			break;
		}
		case 'u':
			put_num(lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 10, width, pad,
				false);
			break;
		case 'x':
		case 'p': {
			u64 v = (*p == 'p' || lng) ? va_arg(ap, u64) : va_arg(ap, unsigned);
			if (alt || *p == 'p')
				hyp_puts("0x");
			put_num(v, 16, width, pad, false);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			hyp_puts(s ? s : "(null)");
			break;
		}
		case 'c':
			hyp_putc((char)va_arg(ap, int));
			break;
		case '%':
			hyp_putc('%');
			break;
		default:
			hyp_putc('%');
			if (*p)
				hyp_putc(*p);
			else
				p--;
		}
	}
	va_end(ap);
	return 0;
}

void hyp_panic(const char *msg)
{
	hyp_printf("hyp: PANIC: %s\n", msg);
	for (;;)
		asm volatile("brk #0x800");
}
