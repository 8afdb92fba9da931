/* reboot guest: ends each boot the way its command line says ("cf9", "acpi-reset", "s5",
 * "exit"), counting boots in CMOS RAM (kept across a VM reset or restart, docs/guest-abi.md).
 * Each boot checks that the count went on by one and that RAM came back fresh; boot ROUNDS
 * ends the loop with a triple fault, which on_crash = destroy does not restart (so does any
 * failure: an exit could be restarted forever). */
#include "testlib.h"

#define ROUNDS	   3
#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define COUNT_BYTE 0x40 /* the boot count, and its complement at 0x41 */
/* a RAM byte each boot sets: the VM is built again from its config, so it reads 0 */
#define RAM_MARK ((volatile uint32_t *)0x00400000)
#define PM1A_CNT 0x604
#define SLP_S5	 ((5u << 10) | (1u << 13)) /* SLP_TYP 5 with SLP_EN */

static uint8_t cmos_get(uint8_t i)
{
	outb(CMOS_INDEX, i);
	return inb(CMOS_DATA);
}

static void cmos_put(uint8_t i, uint8_t v)
{
	outb(CMOS_INDEX, i);
	outb(CMOS_DATA, v);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	const char *how = (mbi->flags & MB_INFO_CMDLINE) ? (const char *)mbi->cmdline : "";
	if (!keel_present()) {
		skip("guest-requested reset and restart: not running under Keel");
		return;
	}
	uint8_t count = cmos_get(COUNT_BYTE), check_byte = cmos_get(COUNT_BYTE + 1);
	unsigned boot;
	if (count == 0 && check_byte == 0) {
		boot = 1;
	} else if ((uint8_t)(check_byte ^ count) == 0xff) {
		boot = count + 1u;
	} else {
		fail("CMOS boot count 0x%x with complement 0x%x: corrupt", count, check_byte);
		triple_fault(); /* an exit could restart it forever */
		return;
	}
	tprintf("reboot: boot %u of %u, ending it with '%s'\n", boot, ROUNDS, how);
	check(boot <= ROUNDS, "boot %u: the count kept in CMOS went on by one (at most %u)", boot,
	      ROUNDS);
	check(*RAM_MARK == 0, "boot %u: RAM is fresh (mark 0x%x at 0x400000)", boot, *RAM_MARK);
	if (boot >= ROUNDS) {
		pass("came back %u times through '%s'", ROUNDS - 1, how);
		triple_fault();
		return;
	}
	*RAM_MARK = 0x600d0000u | boot;
	cmos_put(COUNT_BYTE, (uint8_t)boot);
	cmos_put(COUNT_BYTE + 1, (uint8_t)~boot);

	if (!tg_strcmp(how, "cf9")) {
		/* Linux's cf9 reboot: SYS_RST, then SYS_RST | RST_CPU */
		outb(0xcf9, 0x02);
		outb(0xcf9, 0x06);
	} else if (!tg_strcmp(how, "acpi-reset")) {
		outb(0xcf9, 0x06); /* the FADT's RESET_REG and RESET_VALUE */
	} else if (!tg_strcmp(how, "s5")) {
		outw(PM1A_CNT, SLP_S5);
	} else if (!tg_strcmp(how, "exit")) {
		test_exit(); /* status 1; on_poweroff = restart builds it again */
	} else {
		fail("unknown command line '%s' (cf9, acpi-reset, s5 or exit)", how);
		triple_fault();
		return;
	}
	fail("still running after '%s'", how);
	triple_fault();
}
