/* Hypervisor invariants. A failed KASSERT is a hypervisor bug: it panics in keel.elf and
 * fails the test in the hosted unit tests. Never compiled out: some guard security. */
#ifndef KEEL_ASSERT_H
#define KEEL_ASSERT_H

__attribute__((noreturn)) void assert_failed(const char *file, int line, const char *expr);

#define KASSERT(c)                                                                                 \
	do {                                                                                       \
		if (!(c))                                                                          \
			assert_failed(__FILE__, __LINE__, #c);                                     \
	} while (0)

#endif
